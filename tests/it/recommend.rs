//! Recommendations (issue 10, item 7) through the pages: a talent's projects with their
//! reasons, a project's talents for its region's staff only, nothing across regions.

use crate::hosts::{coordinator, make_host, status_form};
use crate::projects::new_project;
use crate::staff::person;
use crate::support::{TestApp, on_both_backends};
use crate::talent::{join, save_profile};

on_both_backends!(
    TestApp::with_tenants =>
    recommendations_show_their_reasons_and_keep_to_the_region
);

async fn recommendations_show_their_reasons_and_keep_to_the_region(app: &TestApp) {
    // An open iwate project wanting SNS (new_project ticks sns) and agriculture.
    let host = make_host(app, "iwate", "花巻ワイン組合", "032051", true).await;
    let coord = coordinator(app, "iwate", "coord@iwate.example").await;
    let project = new_project(app, &coord, host.get(), "ぶどう畑のファンづくり").await;
    let page = app
        .open(&coord, &format!("/t/iwate/projects/{project}"))
        .await;
    assert_eq!(
        status_form(&page, "open").submit(&coord).await.status(),
        303
    );

    // A talent with PR and agriculture, no SNS: no shared skill, but a tie to Iwate
    // (save_profile ties them to 03).
    let (talent, _) = person(app, "推薦 花子", "hanako@example.jp").await;
    save_profile(
        app,
        &talent,
        "推薦 花子",
        "すいせん はなこ",
        "農業の広報",
        "",
    )
    .await;
    let html = app.page(&talent, "/me/recommendations").await;
    assert!(html.contains("ぶどう畑のファンづくり"), "{html}");
    // Its title ends with the site's name, as every page's does.
    assert!(html.contains(" — 結 Yui</title>"), "{html}");
    assert!(html.contains("ゆかりのある地域"), "the reason is shown");
    assert!(html.contains(&format!("/t/iwate/projects/{project}")));

    // The project's page for staff: the talent appears only once a member or in the pool.
    let path = format!("/t/iwate/projects/{project}/recommendations");
    let html = app.page(&coord, &path).await;
    assert!(!html.contains("推薦 花子"), "not a member, not in the pool");
    assert!(html.contains(" — 結 Yui</title>"), "{html}");
    assert_eq!(join(app, &talent, "iwate", false).await.status(), 303);
    // save_profile ticks pr and agriculture; give the project's skill as well.
    let res = app
        .open(&talent, "/me/profile")
        .await
        .form("/me/profile")
        .check_value("skills", "sns", true)
        .submit(&talent)
        .await;
    assert_eq!(res.status(), 303);
    let html = app.page(&coord, &path).await;
    assert!(html.contains("推薦 花子"), "{html}");
    assert!(html.contains("スキルが一致（SNS運用）"), "{html}");

    // Another region's coordinator, the talent, a stranger: 404 (or sign in).
    let other = coordinator(app, "amami", "coord@amami.example").await;
    assert_eq!(app.status(&other, &path).await, 404);
    assert_eq!(
        app.status(
            &other,
            &format!("/t/amami/projects/{project}/recommendations")
        )
        .await,
        404
    );
    assert_eq!(app.status(&talent, &path).await, 404);
    assert_eq!(
        app.status(&coord, "/t/iwate/projects/x/recommendations")
            .await,
        404
    );
    let stranger = app.client();
    assert_ne!(app.status(&stranger, &path).await, 200);
    assert_ne!(app.status(&stranger, "/me/recommendations").await, 200);
}
