//! Runs in units of work whose results can be kept, moved and summarized later.
//!
//! A landscape (its grid points), a noise sweep (its (level, repeat) cells), a multi-start fit
//! (its starts) and the judgement of a neural model (its initial conditions) each run as two
//! steps: one function computes the results of any range of units, another turns the results of
//! all units, in order, into the output. A whole run calls both in one go. A cluster runs the
//! units in shards (`lagrange ... --shard K/N`), each writing its per-unit results to a file,
//! and `lagrange merge` calls the second function on all of them: the same code, so the same
//! output, bit for bit.
//!
//! So the per-unit result types are serde-serializable without loss:
//! - JSON has no NaN or infinity, which per-unit results do carry (the loss where a model is
//!   singular, the energy error of a rollout that blew up): [`floats`] writes them as the
//!   strings `"NaN"`, `"inf"` and `"-inf"`, finite numbers as numbers (in the shortest form that
//!   reads back to the same `f64`).
//! - A unit's error is kept as its text ([`outcome`]); read back it is a
//!   [`LearnError::Recorded`], whose message is the original one.

use crate::error::LearnError;

/// `#[serde(with = "crate::shard::floats")]` for `f64`, `Vec<f64>`, `Option<f64>` and nestings of
/// them: finite numbers as JSON numbers, the others as `"NaN"`, `"inf"` or `"-inf"`.
pub(crate) mod floats {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// One number as written: a JSON number, or the text of a non-finite one.
    #[derive(Serialize, Deserialize)]
    #[serde(untagged)]
    pub enum Number {
        Finite(f64),
        Text(String),
    }

    /// Values made of `f64`s, written through [`Number`].
    pub trait Floats: Sized {
        /// The written form.
        type Written: Serialize + for<'de> Deserialize<'de>;
        fn write(&self) -> Self::Written;
        fn read(written: Self::Written) -> Result<Self, String>;
    }

    impl Floats for f64 {
        type Written = Number;
        fn write(&self) -> Number {
            if self.is_finite() {
                Number::Finite(*self)
            } else {
                // `{:?}` gives `NaN`, `inf` and `-inf`, which `str::parse` reads back
                Number::Text(format!("{self:?}"))
            }
        }
        fn read(written: Number) -> Result<f64, String> {
            match written {
                Number::Finite(x) => Ok(x),
                Number::Text(text) => text
                    .parse::<f64>()
                    .ok()
                    .filter(|x| !x.is_finite())
                    .ok_or_else(|| format!("'{text}' is not a number (expected NaN, inf or -inf)")),
            }
        }
    }

    impl<T: Floats> Floats for Vec<T> {
        type Written = Vec<T::Written>;
        fn write(&self) -> Self::Written {
            self.iter().map(Floats::write).collect()
        }
        fn read(written: Self::Written) -> Result<Self, String> {
            written.into_iter().map(T::read).collect()
        }
    }

    impl<T: Floats> Floats for Option<T> {
        type Written = Option<T::Written>;
        fn write(&self) -> Self::Written {
            self.as_ref().map(Floats::write)
        }
        fn read(written: Self::Written) -> Result<Self, String> {
            written.map(T::read).transpose()
        }
    }

    pub fn serialize<T: Floats, S: Serializer>(
        value: &T,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        value.write().serialize(serializer)
    }

    pub fn deserialize<'de, T: Floats, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<T, D::Error> {
        T::read(T::Written::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

/// `#[serde(with = "crate::shard::outcome")]` for a unit's `Result<T, LearnError>`: `{"Ok": T}`
/// or `{"Err": "the error's message"}`, read back as [`LearnError::Recorded`].
pub(crate) mod outcome {
    use crate::error::LearnError;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<T: Serialize, S: Serializer>(
        outcome: &Result<T, LearnError>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match outcome {
            Ok(value) => Result::<&T, String>::Ok(value).serialize(serializer),
            Err(error) => Result::<&T, String>::Err(error.to_string()).serialize(serializer),
        }
    }

    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Result<T, LearnError>, D::Error> {
        Ok(Result::<T, String>::deserialize(deserializer)?
            .map_err(|message| LearnError::Recorded { message }))
    }
}

/// Checks that `indices` (the unit numbers of the results, in the order given) are exactly
/// `0, 1, ..., expected − 1`: what the summarizing functions need to reproduce a whole run.
pub(crate) fn check_units(
    what: &'static str,
    indices: impl IntoIterator<Item = usize>,
    expected: usize,
) -> Result<(), LearnError> {
    let mut next = 0;
    for index in indices {
        if index != next {
            return Err(LearnError::IncompleteUnits {
                what,
                reason: format!("unit {index} where unit {next} was expected"),
            });
        }
        next += 1;
    }
    if next != expected {
        return Err(LearnError::IncompleteUnits {
            what,
            reason: format!("results for {next} of the {expected} units"),
        });
    }
    Ok(())
}

/// Checks that `units` lies within `0..total`, for the functions that run a range of units.
pub(crate) fn check_range(
    what: &'static str,
    units: &std::ops::Range<usize>,
    total: usize,
) -> Result<(), LearnError> {
    if units.start > units.end || units.end > total {
        return Err(LearnError::IncompleteUnits {
            what,
            reason: format!(
                "asked for units {}..{} of a run of {total}",
                units.start, units.end
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Serialize, Deserialize)]
    struct Record {
        #[serde(with = "floats")]
        values: Vec<f64>,
        #[serde(with = "floats")]
        maybe: Option<f64>,
        #[serde(with = "outcome")]
        outcome: Result<u32, LearnError>,
    }

    #[test]
    fn non_finite_numbers_and_errors_survive_json() {
        let record = Record {
            values: vec![
                0.1,
                f64::NAN,
                f64::INFINITY,
                f64::NEG_INFINITY,
                -0.0,
                1e-310,
            ],
            maybe: Some(f64::NAN),
            outcome: Err(LearnError::AllStartsFailed { starts: 3 }),
        };
        let text = serde_json::to_string(&record).unwrap();
        assert!(
            text.contains("\"NaN\"") && text.contains("\"-inf\""),
            "{text}"
        );
        let back: Record = serde_json::from_str(&text).unwrap();
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&back.values), bits(&record.values));
        assert!(back.maybe.is_some_and(f64::is_nan));
        let message = LearnError::AllStartsFailed { starts: 3 }.to_string();
        assert_eq!(back.outcome, Err(LearnError::Recorded { message }));
        assert_eq!(serde_json::to_string(&back).unwrap(), text);
        let bad = text.replace("\"-inf\"", "\"minus\"");
        assert!(serde_json::from_str::<Record>(&bad).is_err());
    }

    #[test]
    fn units_must_be_all_in_order() {
        assert!(check_units("cells", 0..3, 3).is_ok());
        assert!(check_units("cells", [0, 2, 1], 3).is_err());
        assert!(check_units("cells", 0..2, 3).is_err());
        assert!(check_range("cells", &(2..3), 3).is_ok());
        assert!(check_range("cells", &(2..4), 3).is_err());
    }
}
