use std::collections::HashSet;

use serde_json::Value;

use crate::helpers::{TestApp, assert_problem, ids, seed, spawn_app};

async fn list(app: &TestApp, query: &str) -> Value {
    let response = app.get(&format!("/images{query}")).await;
    assert_eq!(response.status(), 200, "GET /images{query}");
    response.json().await.unwrap()
}

#[tokio::test]
async fn lists_newest_first_with_ties_broken_by_id() {
    let app = spawn_app().await;
    let mut older = vec![
        seed(&app, "a.png", "2026-01-01T00:00:00.000Z").await,
        seed(&app, "b.png", "2026-01-01T00:00:00.000Z").await,
        seed(&app, "c.png", "2026-01-01T00:00:00.000Z").await,
    ];
    let newest = seed(&app, "d.png", "2026-06-01T00:00:00.000Z").await;
    older.sort_by(|a, b| b.cmp(a));

    let page = list(&app, "").await;
    let mut expected = vec![newest];
    expected.extend(older);
    assert_eq!(ids(&page), expected);
    assert!(page.get("next_token").is_none(), "{page}");
    let item = &page["items"][0];
    assert!(
        item.get("content").is_none(),
        "listings never carry content"
    );
    assert_eq!(item["file_name"], "d.png");
    assert_eq!(item["created_at"], "2026-06-01T00:00:00.000Z");
}

async fn walk(app: &TestApp, filter: &str, limit: usize) -> (Vec<String>, usize) {
    let mut seen = Vec::new();
    let mut pages = 0;
    let mut token: Option<String> = None;
    loop {
        let mut query = format!("?limit={limit}{filter}");
        if let Some(t) = &token {
            query.push_str(&format!("&next_token={t}"));
        }
        let page = list(app, &query).await;
        pages += 1;
        assert!(ids(&page).len() <= limit);
        seen.extend(ids(&page));
        match page.get("next_token") {
            Some(t) => token = Some(t.as_str().unwrap().to_owned()),
            None => return (seen, pages),
        }
        assert!(pages < 50, "pagination does not end");
    }
}

#[tokio::test]
async fn pagination_walks_every_item_exactly_once() {
    let app = spawn_app().await;
    let mut all = Vec::new();
    for i in 0..7 {
        all.push(seed(&app, "p.png", &format!("2026-01-01T00:00:0{i}.000Z")).await);
    }
    all.reverse();

    let (seen, pages) = walk(&app, "", 3).await;
    assert_eq!(seen, all);
    assert_eq!(pages, 3);

    // An exact multiple of the page size ends without an empty trailing page.
    let (seen, pages) = walk(&app, "", 7).await;
    assert_eq!(seen, all);
    assert_eq!(pages, 1);
    let (seen, _) = walk(&app, "&file_name=p.png", 2).await;
    assert_eq!(seen, all);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 7);
}

#[tokio::test]
async fn filters_by_exact_file_name() {
    let app = spawn_app().await;
    let first = seed(&app, "cat.png", "2026-01-01T00:00:00.000Z").await;
    seed(&app, "dog.png", "2026-01-02T00:00:00.000Z").await;
    seed(&app, "Cat.png", "2026-01-03T00:00:00.000Z").await;
    let second = seed(&app, "cat.png", "2026-01-04T00:00:00.000Z").await;

    assert_eq!(
        ids(&list(&app, "?file_name=cat.png").await),
        vec![second, first]
    );
    assert_eq!(
        ids(&list(&app, "?file_name=cat").await),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn date_filters_are_exclusive_and_combine() {
    let app = spawn_app().await;
    let at_ten = seed(&app, "x.png", "2026-03-01T10:00:00.000Z").await;
    let just_after = seed(&app, "x.png", "2026-03-01T10:00:00.001Z").await;
    let eleven = seed(&app, "y.png", "2026-03-01T11:00:00.000Z").await;

    let after = list(&app, "?created_after=2026-03-01T10:00:00Z").await;
    assert_eq!(ids(&after), vec![eleven.clone(), just_after.clone()]);
    let before = list(&app, "?created_before=2026-03-01T11:00:00.000Z").await;
    assert_eq!(ids(&before), vec![just_after.clone(), at_ten.clone()]);
    // Offsets are honoured: 12:00+02:00 is 10:00Z.
    let window = list(
        &app,
        "?created_after=2026-03-01T09:59:59.999Z&created_before=2026-03-01T12:00:00.001%2B02:00",
    )
    .await;
    assert_eq!(ids(&window), vec![at_ten.clone()]);
    let named = list(&app, "?file_name=x.png&created_after=2026-03-01T10:00:00Z").await;
    assert_eq!(ids(&named), vec![just_after]);
    let empty = list(
        &app,
        "?created_after=2026-03-02T00:00:00Z&created_before=2026-03-01T00:00:00Z",
    )
    .await;
    assert_eq!(ids(&empty), Vec::<String>::new());
}

#[tokio::test]
async fn bad_queries_and_tokens_are_refused() {
    let app = spawn_app().await;
    seed(&app, "a.png", "2026-01-01T00:00:00.000Z").await;
    seed(&app, "a.png", "2026-01-02T00:00:00.000Z").await;
    for query in [
        "?limit=0",
        "?limit=101",
        "?limit=ten",
        "?created_after=yesterday",
        "?created_before=2026-02-30T00:00:00Z",
        "?colour=red",
        "?limit=1&limit=2",
    ] {
        assert_problem(
            app.get(&format!("/images{query}")).await,
            400,
            "invalid_query",
        )
        .await;
    }
    for token in ["garbage", "djE6bm9wZQ", &"A".repeat(400)] {
        assert_problem(
            app.get(&format!("/images?next_token={token}")).await,
            400,
            "invalid_token",
        )
        .await;
    }

    let page = list(&app, "?limit=1").await;
    let token = page["next_token"].as_str().unwrap();
    let other_window = format!("/images?created_before=2026-01-01T12:00:00Z&next_token={token}");
    assert_problem(app.get(&other_window).await, 400, "invalid_token").await;
}
