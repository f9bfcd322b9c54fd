//! `--shard K/N` and the shard files that `lagrange merge` combines.
//!
//! `landscape`, `noise-sweep`, `learn --starts` and `evaluate` split their work into units (grid
//! points, (level, repeat) cells, starts, initial conditions; see `lagrange_learn::shard`).
//! With `--shard K/N` a command runs only the K-th of N contiguous, nearly equal ranges of its
//! units and writes a shard file to `--out`: JSON that names the command, the run's settings
//! (everything that determines the result, input files by a fingerprint of their content), K, N,
//! the range of units and their results. `lagrange merge` checks that the files are the N
//! shards of one run and writes what the unsharded run writes, from the same summarizing code.

use crate::commands::learn::pending_text;
use anyhow::{Context, Result, bail};
use clap::Args;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// The `format` of every shard file.
pub const FORMAT: &str = "lagrange-shard";
/// The layout version of shard files; `merge` reads this one only.
pub const FORMAT_VERSION: u32 = 1;

/// Shard `index` of `count` (1 ≤ index ≤ count), as in `--shard 2/8`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// K, from 1 (so that `$SLURM_ARRAY_TASK_ID` of `--array=1-N` can be passed as it is).
    pub index: usize,
    /// N.
    pub count: usize,
}

impl Shard {
    /// Parses `K/N` (clap's value parser: the message becomes the one `error:` line).
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || "expected K/N with 1 ≤ K ≤ N, e.g. 2/8".to_string();
        let (k, n) = text.split_once('/').ok_or_else(bad)?;
        let k: usize = k.trim().parse().map_err(|_| bad())?;
        let n: usize = n.trim().parse().map_err(|_| bad())?;
        if n == 0 {
            return Err("the number of shards N must be at least 1".to_string());
        }
        if k == 0 || k > n {
            return Err(
                "K must be between 1 and N (shards are numbered from 1, as Slurm's --array=1-N)"
                    .to_string(),
            );
        }
        Ok(Self { index: k, count: n })
    }

    /// This shard's units of `total`: the K-th of N contiguous ranges whose sizes differ by at
    /// most one (empty when N exceeds the units and K draws none).
    pub fn units(&self, total: usize) -> Range<usize> {
        let bound = |k: usize| (total as u128 * k as u128 / self.count as u128) as usize;
        bound(self.index - 1)..bound(self.index)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// `--shard K/N` of the commands whose work splits into independent units.
#[derive(Debug, Args)]
pub struct ShardArgs {
    /// Run shard K of N of the work (1 ≤ K ≤ N; with a Slurm job array `--array=1-N`, pass
    /// `--shard $SLURM_ARRAY_TASK_ID/N`) and write a shard file (JSON) to --out instead of the
    /// output; `lagrange merge SHARD... --out FILE` then writes what the unsharded run writes.
    #[arg(long, value_name = "K/N", value_parser = Shard::parse)]
    pub shard: Option<Shard>,
}

/// Refuses `--plot` with `--shard`: a shard holds part of the results (`merge --plot` draws it).
pub fn refuse_plot(shard: Option<Shard>, plot: &Option<PathBuf>) -> Result<()> {
    if let Some(shard) = shard
        && plot.is_some()
    {
        bail!(
            "--plot cannot be combined with --shard {shard}: a shard has only part of the results (give --plot to `lagrange merge`)"
        );
    }
    Ok(())
}

/// Which units a shard file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Units {
    /// Units of the whole run.
    pub total: usize,
    /// The first unit of this shard.
    pub first: usize,
    /// How many.
    pub count: usize,
}

/// The content of a shard file: `run` is the command's settings, `results` its per-unit results.
#[derive(Debug, Serialize, Deserialize)]
pub struct ShardFile<R, U> {
    /// Always [`FORMAT`]: what tells a shard file from any other JSON.
    pub format: String,
    /// [`FORMAT_VERSION`].
    pub format_version: u32,
    /// The version of `lagrange` that wrote it.
    pub lagrange_version: String,
    /// The command (`landscape`, `noise-sweep`, `learn`, `evaluate`).
    pub command: String,
    /// K and N.
    pub shard: Shard,
    /// The units it holds.
    pub units: Units,
    /// Everything that determines the run's result; the shards of one run agree on it.
    pub run: R,
    /// The results of its units.
    pub results: U,
}

/// Writes shard `shard` of a run of `total` units of `command` to `out`, all or nothing.
///
/// The file is read back before it is written: a value that JSON cannot carry (a NaN where the
/// result has a plain number) is an error now, not when the shards are merged.
pub fn write<R, U>(
    out: &Path,
    command: &str,
    shard: Shard,
    total: usize,
    run: &R,
    results: &U,
) -> Result<()>
where
    R: Serialize + DeserializeOwned,
    U: Serialize + DeserializeOwned,
{
    let units = shard.units(total);
    let file = ShardFile {
        format: FORMAT.to_string(),
        format_version: FORMAT_VERSION,
        lagrange_version: env!("CARGO_PKG_VERSION").to_string(),
        command: command.to_string(),
        shard,
        units: Units {
            total,
            first: units.start,
            count: units.len(),
        },
        run,
        results,
    };
    let text = serde_json::to_string_pretty(&file)? + "\n";
    let back = serde_json::from_str::<ShardFile<R, U>>(&text)
        .ok()
        .and_then(|back| serde_json::to_string_pretty(&back).ok());
    if back.is_none_or(|back| back + "\n" != text) {
        bail!(
            "shard {shard}: its results hold a number that a shard file cannot carry (NaN or infinity where the output has a plain number); run without --shard"
        );
    }
    pending_text(out, &text)?.commit()
}

/// `fnv1a64:<hex>` of the content of the file at `path`: shards of one run read the same inputs.
pub fn fingerprint(path: &Path) -> Result<String> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("cannot read '{}'", path.display()))?;
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let n = file
            .read(&mut buffer)
            .with_context(|| format!("cannot read '{}'", path.display()))?;
        if n == 0 {
            break;
        }
        for &byte in &buffer[..n] {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    Ok(format!("fnv1a64:{hash:016x}"))
}

/// [`fingerprint`] of `spec` where it names a file (a system or model given as a file rather
/// than as a built-in name or a model family).
pub fn fingerprint_if_file(spec: &str) -> Result<Option<String>> {
    let path = Path::new(spec);
    if path.is_file() {
        fingerprint(path).map(Some)
    } else {
        Ok(None)
    }
}

/// A shard file as read by `merge`, with its command's parts still as JSON.
pub struct Piece {
    pub path: PathBuf,
    pub file: ShardFile<Value, Value>,
}

fn read(path: &Path) -> Result<Piece> {
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read shard file '{shown}'"))?;
    let not_shard = || {
        format!(
            "'{shown}' is not a shard file (the --out of a run with --shard K/N, a JSON object with \"format\": \"{FORMAT}\")"
        )
    };
    let value: Value = serde_json::from_str(&text).map_err(|_| anyhow::anyhow!(not_shard()))?;
    if value.get("format").and_then(Value::as_str) != Some(FORMAT) {
        bail!(not_shard());
    }
    let version = value.get("format_version").and_then(Value::as_u64);
    if version != Some(u64::from(FORMAT_VERSION)) {
        bail!(
            "'{shown}' is a shard file of format version {}, this lagrange reads version {FORMAT_VERSION}",
            version.map_or("?".to_string(), |v| v.to_string())
        );
    }
    let file: ShardFile<Value, Value> = serde_json::from_value(value)
        .with_context(|| format!("'{shown}' is a damaged shard file"))?;
    let expected = file.shard.units(file.units.total);
    let held = file.units.first..file.units.first + file.units.count;
    if file.shard.index == 0 || file.shard.index > file.shard.count || held != expected {
        bail!(
            "'{shown}' is a damaged shard file: shard {} of {} units should hold units {expected:?}, it says {held:?}",
            file.shard,
            file.units.total
        );
    }
    Ok(Piece {
        path: path.to_path_buf(),
        file,
    })
}

/// The top-level settings in which two runs differ, for the error message.
fn differences(a: &Value, b: &Value) -> Vec<String> {
    match (a.as_object(), b.as_object()) {
        (Some(a), Some(b)) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            keys.into_iter()
                .filter(|k| a.get(*k) != b.get(*k))
                .map(|k| k.to_string())
                .collect()
        }
        _ => vec!["everything".to_string()],
    }
}

/// Reads the shard files at `paths` and checks that they are all N shards of one run, each
/// once; returns them in order K = 1..N. Every failure is one message naming the files.
pub fn read_all(paths: &[PathBuf]) -> Result<Vec<Piece>> {
    let pieces: Vec<Piece> = paths.iter().map(|p| read(p)).collect::<Result<_>>()?;
    let Some(first) = pieces.first() else {
        bail!("no shard files given");
    };
    let (a, fa) = (first.path.display(), &first.file);
    for piece in &pieces[1..] {
        let (b, fb) = (piece.path.display(), &piece.file);
        if fb.command != fa.command {
            bail!(
                "'{b}' is a shard of `{}` but '{a}' of `{}`: only the shards of one run can be merged",
                fb.command,
                fa.command
            );
        }
        if fb.lagrange_version != fa.lagrange_version {
            bail!(
                "'{b}' was written by lagrange {} but '{a}' by {}: run every shard with one version",
                fb.lagrange_version,
                fa.lagrange_version
            );
        }
        if fb.shard.count != fa.shard.count || fb.units.total != fa.units.total {
            bail!(
                "'{b}' is shard {} of {} units but '{a}' shard {} of {}: they are not shards of one run",
                fb.shard,
                fb.units.total,
                fa.shard,
                fa.units.total
            );
        }
        if fb.run != fa.run {
            bail!(
                "'{b}' and '{a}' are shards of different runs of `{}` (they differ in: {}); merge the shards of one run",
                fa.command,
                differences(&fb.run, &fa.run).join(", ")
            );
        }
    }
    let count = fa.shard.count;
    let mut by_index: BTreeMap<usize, &Piece> = BTreeMap::new();
    for piece in &pieces {
        if let Some(other) = by_index.insert(piece.file.shard.index, piece) {
            bail!(
                "shard {} is given twice ('{}' and '{}')",
                piece.file.shard,
                other.path.display(),
                piece.path.display()
            );
        }
    }
    let missing: Vec<String> = (1..=count)
        .filter(|k| !by_index.contains_key(k))
        .map(|k| k.to_string())
        .collect();
    match missing.len() {
        0 => {}
        1 => bail!("shard {} of {count} is missing", missing[0]),
        _ => bail!("shards {} of {count} are missing", missing.join(", ")),
    }
    let mut pieces = pieces;
    pieces.sort_by_key(|p| p.file.shard.index);
    Ok(pieces)
}

/// A command's part of the shard files (its run settings, its results) as its own type.
pub fn decode<T: DeserializeOwned>(value: Value, what: &str) -> Result<T> {
    serde_json::from_value(value).with_context(|| format!("the shard files' {what} are damaged"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_split_the_units_into_contiguous_ranges() {
        for total in [0, 1, 2, 7, 9, 10, 100] {
            for count in 1..=12 {
                let mut next = 0;
                for index in 1..=count {
                    let range = Shard { index, count }.units(total);
                    assert_eq!(range.start, next);
                    assert!(range.len() <= total.div_ceil(count));
                    next = range.end;
                }
                assert_eq!(next, total);
            }
        }
    }

    #[test]
    fn shard_values_are_checked() {
        assert_eq!(Shard::parse("2/8"), Ok(Shard { index: 2, count: 8 }));
        assert_eq!(
            Shard::parse(" 1 / 1 ").map(|s| s.to_string()),
            Ok("1/1".into())
        );
        for bad in ["0/4", "5/4", "1/0", "x", "1/", "/4", "-1/4", "1/4/2", ""] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }
}
