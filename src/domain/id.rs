use std::fmt;
use std::str::FromStr;

use super::InputError;
use super::excerpt;

/// A random UUID v4 naming one image (and its S3 object).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ImageId(uuid::Uuid);

impl ImageId {
    pub fn new() -> Self {
        Self(uuid::Uuid::new_v4())
    }
}

impl Default for ImageId {
    fn default() -> Self {
        Self::new()
    }
}

impl FromStr for ImageId {
    type Err = InputError;

    /// Accepts the hyphenated form in any case; ids are always stored and returned lowercase.
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        if raw.len() != 36 {
            return Err(InputError::InvalidId(excerpt(raw)));
        }
        uuid::Uuid::try_parse(raw)
            .map(Self)
            .map_err(|_| InputError::InvalidId(excerpt(raw)))
    }
}

impl fmt::Display for ImageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hyphenated_uuids_only() {
        let id: ImageId = "6F9619FF-8B86-4011-B42D-00C04FC964FF".parse().unwrap();
        assert_eq!(id.to_string(), "6f9619ff-8b86-4011-b42d-00c04fc964ff");
        for bad in [
            "",
            "42",
            "6f9619ff8b864011b42d00c04fc964ff",
            "../../etc/passwd",
            "6f9619ff-8b86-4011-b42d-00c04fc964fg",
        ] {
            assert!(
                matches!(bad.parse::<ImageId>(), Err(InputError::InvalidId(_))),
                "{bad}"
            );
        }
    }
}
