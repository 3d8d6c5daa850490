"""Solve a `yui match solve` instance with PyPI `matching` and compare with Yui's output.

Usage: python match_pypi.py INSTANCE.json YUI_OUTPUT.json

Builds players with `matching.games.hospital_resident._make_players` (the public
`HospitalResident` constructor validates inputs quadratically and does not finish on
100k talents) and times only `matching.algorithms.hospital_resident.hospital_resident`
with `optimal="resident"`. Written for matching 1.4.x. Prints one line of key=value
fields: make_players and solve in seconds, matched, and identical (whether the two
matchings are the same set of talent-project pairs).
"""

import json
import sys
import time

from matching.algorithms.hospital_resident import hospital_resident
from matching.games.hospital_resident import _make_players


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as f:
        instance = json.load(f)
    with open(sys.argv[2], encoding="utf-8") as f:
        yui = json.load(f)

    resident_prefs = {t["id"]: t["prefs"] for t in instance["talents"]}
    hospital_prefs = {p["id"]: p["prefs"] for p in instance["projects"]}
    capacities = {p["id"]: p["capacity"] for p in instance["projects"]}

    start = time.perf_counter()
    residents, hospitals = _make_players(resident_prefs, hospital_prefs, capacities)
    made = time.perf_counter()
    result = hospital_resident(residents, hospitals, optimal="resident")
    solved = time.perf_counter()

    theirs = {r.name: h.name for h, matched in result.items() for r in matched}
    ours = {a["talent"]: a["project"] for a in yui["assignments"]}
    print(
        f"make_players={made - start:.3f} solve={solved - made:.3f} "
        f"matched={len(theirs)} identical={'yes' if theirs == ours else 'NO'}"
    )


if __name__ == "__main__":
    main()
