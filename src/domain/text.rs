//! The rule for text a client names or labels things with (file names, metadata, ETags): no
//! control characters, Unicode's `Cc` (`char::is_control`). Also the same rule as a JSON
//! Schema pattern, for the API document.

use utoipa::openapi::schema::{ObjectBuilder, Type};

/// ECMA-262: the `Cc` ranges, which `tests::the_pattern_is_the_rule` checks.
pub const NO_CONTROL_CHARACTERS: &str = r"^[^\u0000-\u001F\u007F-\u009F]*$";

pub fn has_control(text: &str) -> bool {
    text.chars().any(char::is_control)
}

/// A string schema for text under the rule, of `min` to `max` characters.
pub fn schema(min: usize, max: Option<usize>) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length((min > 0).then_some(min))
        .max_length(max)
        .pattern(Some(NO_CONTROL_CHARACTERS))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pattern_is_the_rule() {
        assert_eq!(NO_CONTROL_CHARACTERS, r"^[^\u0000-\u001F\u007F-\u009F]*$");
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            let in_pattern = c <= '\u{1F}' || ('\u{7F}'..='\u{9F}').contains(&c);
            assert_eq!(has_control(&c.to_string()), in_pattern, "{:?}", c);
        }
    }
}
