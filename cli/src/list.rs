//! `list`: the caller's images, newest first, page after page.

use reqwest::Method;

use crate::client::{Client, Failure};
use crate::records::Page;

/// Every page of the listing (or `limit` records), as a table or as JSON lines.
pub async fn run(
    client: &Client,
    filters: &[(&str, Option<String>)],
    limit: Option<usize>,
    json: bool,
) -> Result<(), Failure> {
    let mut token: Option<String> = None;
    let mut shown = 0;
    if !json {
        println!(
            "{:<36}  {:>10}  {:>11}  {:<20}  file name",
            "id", "bytes", "dimensions", "created"
        );
    }
    loop {
        let page = limit
            .map_or(100, |limit| (limit - shown).min(100))
            .to_string();
        let mut query: Vec<(&str, &str)> = filters
            .iter()
            .filter_map(|(name, value)| value.as_deref().map(|v| (*name, v)))
            .collect();
        query.push(("limit", &page));
        if let Some(token) = &token {
            query.push(("next_token", token));
        }
        let page: Page = client
            .send_query(Method::GET, "images", &query, None)
            .await?
            .json()
            .await
            .map_err(|e| Failure::new(format!("an unreadable listing: {e}")))?;
        for record in page.items {
            shown += 1;
            if json {
                let line = serde_json::to_string(&record).expect("a record serialises");
                println!("{line}");
            } else {
                let dimensions = match (record.width, record.height) {
                    (Some(w), Some(h)) => format!("{w}x{h}"),
                    _ => "-".into(),
                };
                println!(
                    "{:<36}  {:>10}  {:>11}  {:<20}  {}",
                    record.id,
                    record.size,
                    dimensions,
                    record.created_at.get(..19).unwrap_or_default(),
                    record.file_name.escape_debug(),
                );
            }
        }
        token = page.next_token;
        if token.is_none() || limit.is_some_and(|limit| shown >= limit) {
            return Ok(());
        }
    }
}
