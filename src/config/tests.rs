use super::*;
use std::collections::HashMap;

fn load(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_lookup(|name| map.get(name).cloned())
}

#[test]
fn a_sam_local_run_without_an_emulator_stops() {
    let base = [
        ("BUCKET_NAME", "b"),
        ("TABLE_NAME", "t"),
        ("AWS_SAM_LOCAL", "true"),
    ];
    assert_eq!(load(&base), Err(ConfigError::LocalRunWithoutEmulator));
    let declared_empty = [&base[..], &[("LOCALSTACK_ENDPOINT", "")]].concat();
    assert_eq!(
        load(&declared_empty),
        Err(ConfigError::LocalRunWithoutEmulator)
    );
    let with_emulator = [
        &base[..],
        &[("LOCALSTACK_ENDPOINT", "http://172.17.0.1:4566")],
    ]
    .concat();
    assert!(load(&with_emulator).is_ok());
    // Deployed, the variable is absent, and so is AWS_SAM_LOCAL.
    assert!(load(&[("BUCKET_NAME", "b"), ("TABLE_NAME", "t")]).is_ok());
}

#[test]
fn the_decode_budget_follows_the_function_memory() {
    let base = [
        ("BUCKET_NAME", "b"),
        ("TABLE_NAME", "t"),
        ("MAX_PIXELS", "5000"),
    ];
    let lambda = load(&[&base[..], &[("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024")]].concat());
    let budget = lambda.unwrap().decode_budget;
    assert_eq!((budget.memory, budget.pixels), (512 << 20, 5000));
    let set = load(&[&base[..], &[("DECODE_MEMORY_BYTES", "67108864")]].concat());
    assert_eq!(set.unwrap().decode_budget.memory, 64 << 20);
    for bad in ["0", "1000", "-5", "lots"] {
        let refused = load(&[&base[..], &[("DECODE_MEMORY_BYTES", bad)]].concat());
        assert!(refused.is_err(), "{bad}");
    }
    let refused = load(&[&base[..], &[("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "x")]].concat());
    assert!(refused.is_err());
}

#[test]
fn names_the_missing_variable() {
    assert_eq!(
        load(&[("TABLE_NAME", "t")]),
        Err(ConfigError::Missing("BUCKET_NAME"))
    );
    assert_eq!(
        load(&[("BUCKET_NAME", "b"), ("TABLE_NAME", " ")]),
        Err(ConfigError::Missing("TABLE_NAME"))
    );
}

#[test]
fn applies_defaults_and_emulator_region() {
    let config = load(&[
        ("BUCKET_NAME", "b"),
        ("TABLE_NAME", "t"),
        ("LOCALSTACK_ENDPOINT", "http://localhost:4566"),
    ])
    .unwrap();
    assert_eq!(config.max_upload_bytes, DEFAULT_MAX_UPLOAD_BYTES);
    assert_eq!(config.bind_addr.to_string(), DEFAULT_BIND_ADDR);
    assert_eq!(config.max_connections, DEFAULT_MAX_CONNECTIONS);
    assert_eq!(
        config.max_direct_upload_bytes,
        DEFAULT_MAX_DIRECT_UPLOAD_BYTES
    );
    assert_eq!(config.upload_part_bytes, DEFAULT_UPLOAD_PART_BYTES);
    assert_eq!(config.client_timeout.as_secs(), DEFAULT_CLIENT_TIMEOUT_SECS);
    assert_eq!(config.region.as_deref(), Some(EMULATOR_REGION));
    assert!(config.use_test_credentials);
    assert_eq!(config.decode_budget.memory, 128 << 20);
    assert_eq!(config.decode_budget.pixels, DEFAULT_MAX_PIXELS);
    assert_eq!(config.owner.as_str(), DEFAULT_OWNER);

    let aws = load(&[("BUCKET_NAME", "b"), ("TABLE_NAME", "t")]).unwrap();
    assert_eq!(
        aws.region, None,
        "real AWS leaves the region to the SDK chain"
    );
    assert!(!aws.use_test_credentials);

    let emulator_with_keys = load(&[
        ("BUCKET_NAME", "b"),
        ("TABLE_NAME", "t"),
        ("LOCALSTACK_ENDPOINT", "http://localhost:4566"),
        ("AWS_PROFILE", "dev"),
    ])
    .unwrap();
    assert!(!emulator_with_keys.use_test_credentials);
}

#[test]
fn cognito_needs_a_pool_and_its_clients_and_finds_the_keys() {
    let base = [("BUCKET_NAME", "b"), ("TABLE_NAME", "t")];
    assert_eq!(load(&base).unwrap().cognito, None);
    let pool = ("COGNITO_USER_POOL_ID", "eu-west-1_AbC123");
    let aws = load(&[&base[..], &[pool, ("COGNITO_CLIENT_IDS", "one, two")]].concat())
        .unwrap()
        .cognito
        .unwrap();
    assert_eq!(aws.client_ids, ["one", "two"]);
    assert_eq!(
        aws.issuer,
        "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123"
    );
    assert_eq!(
        aws.jwks_url,
        "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123/.well-known/jwks.json"
    );
    let emulated = [
        &base[..],
        &[
            pool,
            ("COGNITO_CLIENT_IDS", "one"),
            ("LOCALSTACK_ENDPOINT", "http://127.0.0.1:5000"),
        ],
    ]
    .concat();
    // The S3 and DynamoDB emulator alone never says where the keys are.
    let beside_an_emulator = load(&emulated).unwrap().cognito.unwrap();
    assert_eq!(beside_an_emulator.jwks_url, aws.jwks_url);
    assert_eq!(beside_an_emulator.endpoint, aws.endpoint);
    assert!(!beside_an_emulator.endpoint_overridden);
    assert!(!aws.endpoint_overridden);
    let own = [
        &emulated[..],
        &[("COGNITO_ENDPOINT", "http://10.0.0.1:9229/")],
    ]
    .concat();
    let local = load(&own).unwrap().cognito.unwrap();
    assert_eq!(
        local.jwks_url,
        "http://10.0.0.1:9229/eu-west-1_AbC123/.well-known/jwks.json"
    );
    assert!(local.endpoint_overridden);
    // The issuer is AWS's form even on an emulator: it is what the tokens say.
    assert_eq!(local.issuer, aws.issuer);
    assert_eq!(
        load(&[&base[..], &[pool]].concat()),
        Err(ConfigError::Missing("COGNITO_CLIENT_IDS"))
    );
    for (name, value) in [
        ("COGNITO_USER_POOL_ID", "nopool"),
        ("COGNITO_USER_POOL_ID", "eu-west-1_../x"),
        ("COGNITO_CLIENT_IDS", " , "),
        ("COGNITO_CLIENT_IDS", "a/b"),
    ] {
        let mut pairs = vec![base[0], base[1], pool, ("COGNITO_CLIENT_IDS", "one")];
        pairs.retain(|(n, _)| *n != name);
        pairs.push((name, value));
        assert!(
            matches!(load(&pairs), Err(ConfigError::Invalid { name: n, .. }) if n == name),
            "{name}={value}"
        );
    }
}

#[test]
fn reads_the_cors_allow_list() {
    let config = load(&[
        ("BUCKET_NAME", "b"),
        ("TABLE_NAME", "t"),
        (
            "CORS_ALLOWED_ORIGINS",
            "https://app.example.com, http://localhost:5173",
        ),
    ])
    .unwrap();
    assert_eq!(
        config.cors_allowed_origins,
        ["https://app.example.com", "http://localhost:5173"]
    );
    let off = load(&[("BUCKET_NAME", "b"), ("TABLE_NAME", "t")]).unwrap();
    assert!(off.cors_allowed_origins.is_empty());
}

#[test]
fn rejects_malformed_values() {
    for (name, value) in [
        ("MAX_UPLOAD_BYTES", "0"),
        ("MAX_UPLOAD_BYTES", "4MB"),
        ("MAX_CONNECTIONS", "0"),
        ("MAX_DIRECT_UPLOAD_BYTES", "5368709121"),
        ("DIRECT_UPLOAD_PART_BYTES", "1048576"),
        ("DIRECT_UPLOAD_TTL_SECS", "604801"),
        ("CLIENT_TIMEOUT_SECS", "-1"),
        ("BIND_ADDR", "localhost"),
        ("LOCALSTACK_ENDPOINT", "localhost:4566"),
        ("CORS_ALLOWED_ORIGINS", "*"),
        ("IMAGE_OWNER", "a/b"),
        (
            "CORS_ALLOWED_ORIGINS",
            "https://ok.example, https://bad.example/path",
        ),
    ] {
        let err = load(&[("BUCKET_NAME", "b"), ("TABLE_NAME", "t"), (name, value)]).unwrap_err();
        assert!(
            matches!(err, ConfigError::Invalid { name: n, .. } if n == name),
            "{name}={value}: {err}"
        );
    }
}
