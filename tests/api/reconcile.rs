use std::process::Command;

use aws_sdk_s3::primitives::ByteStream;
use image_api::domain::{FileName, ImageId, ImageRecord, Metadata, Timestamp};
use image_api::storage::Catalog;

use crate::helpers::{TestApp, moto_endpoint, png, spawn_app};

/// A consistent image, an orphan object, a ghost record and a foreign key, made on purpose.
async fn broken_state(app: &TestApp) -> (String, ImageId, ImageId) {
    let good = app.create("good.png", &png(4)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let orphan = ImageId::new();
    app.s3
        .put_object()
        .bucket(&app.bucket)
        .key(format!("images/{orphan}"))
        .body(ByteStream::from(png(4)))
        .send()
        .await
        .unwrap();
    let ghost = ImageRecord {
        id: ImageId::new(),
        owner: app.owner(),
        file_name: FileName::parse("ghost.png".into()).unwrap(),
        content_type: imaging::media::MediaType::Png,
        size: 4,
        created_at: Timestamp::now(),
        metadata: Metadata::default(),
        // As records written before dimensions were read.
        width: None,
        height: None,
    };
    Catalog::new(app.dynamodb.clone(), &app.table, app.owner())
        .insert(&ghost)
        .await
        .unwrap();
    app.s3
        .put_object()
        .bucket(&app.bucket)
        .key("images/not-an-id")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    (good, orphan, ghost.id)
}

/// A delete that stopped after marking its record is finished by `--repair` whatever its
/// age (its owner asked for it), and its objects are not reported as orphans.
#[tokio::test]
async fn unfinished_deletes_are_finished() {
    let app = spawn_app().await;
    let kept = app.create("kept.png", &png(4)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let half = app.create("half.png", &png(4)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.mark_deleting(&half).await;

    let found = app.reconcile(3600, false).await;
    let half_id: ImageId = half.parse().unwrap();
    assert_eq!(found.unfinished_deletes, vec![half_id]);
    assert!(found.orphan_objects.is_empty(), "{found:?}");
    assert_eq!(found.records, 1);
    assert!(app.object(&half).await.is_some());

    let repaired = app.reconcile(3600, true).await;
    assert_eq!(repaired.unfinished_deletes, vec![half_id]);
    assert!(app.object(&half).await.is_none());
    let clean = app.reconcile(3600, false).await;
    assert!(
        clean.unfinished_deletes.is_empty(),
        "the mark is left: {clean:?}"
    );
    assert!(app.object(&kept).await.is_some() && app.record(&kept).await.is_some());
}

#[tokio::test]
async fn finds_orphans_and_ghosts_and_repairs_only_past_the_grace_period() {
    let app = spawn_app().await;
    let (good, orphan, ghost) = broken_state(&app).await;

    let report = app.reconcile(0, false).await;
    assert_eq!((report.objects, report.records), (2, 2));
    assert_eq!(
        report
            .orphan_objects
            .iter()
            .map(|f| f.id)
            .collect::<Vec<_>>(),
        vec![orphan]
    );
    assert_eq!(
        report
            .ghost_records
            .iter()
            .map(|f| f.id)
            .collect::<Vec<_>>(),
        vec![ghost]
    );
    assert_eq!(report.foreign_keys, vec!["images/not-an-id".to_owned()]);
    assert!(
        report
            .orphan_objects
            .iter()
            .chain(&report.ghost_records)
            .all(|f| !f.repaired)
    );

    // Everything is seconds old: a one-hour grace period protects it all.
    let young = app.reconcile(3600, true).await;
    assert!(
        young
            .orphan_objects
            .iter()
            .chain(&young.ghost_records)
            .all(|f| !f.repaired)
    );
    assert!(app.object(&orphan.to_string()).await.is_some());
    assert!(app.record(&ghost.to_string()).await.is_some());

    let repaired = app.reconcile(0, true).await;
    assert!(
        repaired
            .orphan_objects
            .iter()
            .chain(&repaired.ghost_records)
            .all(|f| f.repaired)
    );
    assert!(app.object(&orphan.to_string()).await.is_none());
    assert!(app.record(&ghost.to_string()).await.is_none());
    assert!(app.object(&good).await.is_some() && app.record(&good).await.is_some());
    assert!(
        app.object("not-an-id").await.is_some(),
        "foreign keys are left alone"
    );

    let clean = app.reconcile(0, false).await;
    assert!(clean.orphan_objects.is_empty() && clean.ghost_records.is_empty());
}

#[tokio::test]
async fn the_reconcile_subcommand_reports_and_repairs() {
    let app = spawn_app().await;
    let (_, orphan, ghost) = broken_state(&app).await;
    let operator = app.operator_env().await;
    let command = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_image-api"))
            .arg("reconcile")
            .args(extra)
            .env_clear()
            .env("BUCKET_NAME", &app.bucket)
            .env("TABLE_NAME", &app.table)
            .env("LOCALSTACK_ENDPOINT", moto_endpoint())
            .envs(operator.iter().map(|(name, value)| (name, value)))
            .output()
            .unwrap()
    };
    let report = command(&[]);
    assert!(
        report.status.success(),
        "{}",
        String::from_utf8_lossy(&report.stderr)
    );
    let text = String::from_utf8(report.stdout).unwrap();
    assert!(
        text.contains(&format!("orphan object {orphan}"))
            && text.contains(&format!("ghost record {ghost}")),
        "{text}"
    );
    assert!(
        text.contains(
            "1 orphan objects, 1 ghost records, 0 uploads in progress, 0 expired uploads, 0 unfinished deletes, 0 repaired"
        ),
        "{text}"
    );

    let repaired = command(&["--repair", "--grace-seconds", "0"]);
    let text = String::from_utf8(repaired.stdout).unwrap();
    assert!(text.contains("2 repaired"), "{text}");
    assert!(app.object(&orphan.to_string()).await.is_none());

    let wrong = command(&["--frobnicate"]);
    assert!(!wrong.status.success());
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("usage"));
}

/// A direct upload in progress owns its object until it expires; an expired one is removed
/// with its object and its multipart upload.
#[tokio::test]
async fn uploads_in_progress_are_left_alone_and_expired_ones_removed() {
    use image_api::domain::{FileName, PartPlan, PendingUpload};
    use std::time::Duration;

    let app = spawn_app().await;
    let store = &app.state.store;
    let pending = |expires_in_past: bool| {
        let now = Timestamp::now();
        PendingUpload {
            id: ImageId::new(),
            owner: app.owner(),
            file_name: FileName::parse("p.png".into()).unwrap(),
            size: 4,
            metadata: Metadata::default(),
            plan: PartPlan::new(4, 8 << 20),
            multipart_id: None,
            created_at: now,
            expires_at: if expires_in_past {
                now
            } else {
                now.plus(Duration::from_secs(3600))
            },
        }
    };
    let (live, expired) = (pending(false), pending(true));
    for upload in [&live, &expired] {
        store.catalog().insert_pending(upload).await.unwrap();
        app.s3
            .put_object()
            .bucket(&app.bucket)
            .key(format!("images/{}", upload.id))
            .body(ByteStream::from(png(4)))
            .send()
            .await
            .unwrap();
    }
    let report = app.reconcile(0, false).await;
    assert_eq!(report.pending_uploads, 1);
    assert!(report.orphan_objects.is_empty(), "{report:?}");
    assert_eq!(report.expired_uploads.len(), 1);
    assert_eq!(report.expired_uploads[0].id, expired.id);

    let repaired = app.reconcile(0, true).await;
    assert!(repaired.expired_uploads[0].repaired);
    assert!(app.object(&expired.id.to_string()).await.is_none());
    assert!(app.record(&expired.id.to_string()).await.is_none());
    assert!(app.object(&live.id.to_string()).await.is_some());
    assert!(app.record(&live.id.to_string()).await.is_some());
}

/// A thumbnail whose image has no record is an orphan; repair removes it, and leaves the
/// thumbnails of images alone.
#[tokio::test]
async fn orphan_thumbnails_are_found_and_removed() {
    let app = spawn_app().await;
    let pixel = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        image_api::domain::PIXEL_PNG_BASE64,
    )
    .unwrap();
    let id = app.create("t.png", &pixel).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let kept = app.get(&format!("/images/{id}/thumbnail?size=64")).await;
    assert_eq!(kept.status(), 200);
    let orphan = format!("thumbnails/{}/64", ImageId::new());
    app.s3
        .put_object()
        .bucket(&app.bucket)
        .key(&orphan)
        .body(ByteStream::from(png(4)))
        .send()
        .await
        .unwrap();
    let report = app.reconcile(0, false).await;
    assert_eq!(report.orphan_thumbnails, vec![orphan.clone()]);
    app.reconcile(0, true).await;
    assert!(app.reconcile(0, false).await.orphan_thumbnails.is_empty());
    let listed = app
        .s3
        .list_objects_v2()
        .bucket(&app.bucket)
        .prefix("thumbnails/")
        .send()
        .await
        .unwrap();
    assert_eq!(
        listed.contents().len(),
        1,
        "the image's own thumbnail stays"
    );
}
