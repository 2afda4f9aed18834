//! Where a key sits in a scenario's TOML text, so that every error names the key and the line
//! at fault. A light line scanner, not a TOML parser: it follows table headers (`[a]`,
//! `[[a.b]]`, counting array entries) and `key = value` lines, which is how scenario files are
//! written. Keys inside inline tables resolve to the line of the key that holds them.

/// The keys of a TOML text with the lines they are on.
#[derive(Debug, Clone, Default)]
pub(crate) struct KeyMap {
    /// Full key paths (`events[1].residual`) or table paths (`events[1]`), with their
    /// 1-based line numbers, in text order.
    entries: Vec<(String, u64)>,
    /// Byte offset at which each line starts.
    line_starts: Vec<usize>,
}

impl KeyMap {
    /// Scan `text`.
    pub fn new(text: &str) -> Self {
        let mut map = KeyMap::default();
        let mut context = String::new();
        let mut counts: Vec<(String, usize)> = Vec::new();
        let mut offset = 0;
        for (n, raw) in text.split('\n').enumerate() {
            map.line_starts.push(offset);
            offset += raw.len() + 1;
            let line_no = n as u64 + 1;
            let line = raw.trim();
            if let Some(name) = line.strip_prefix("[[").and_then(|l| l.split("]]").next()) {
                let name = normalise_key(name);
                let k = match counts.iter_mut().find(|(p, _)| *p == name) {
                    Some((_, k)) => {
                        *k += 1;
                        *k - 1
                    }
                    None => {
                        counts.push((name.clone(), 1));
                        0
                    }
                };
                context = format!("{name}[{k}]");
                map.entries.push((context.clone(), line_no));
            } else if let Some(name) = line.strip_prefix('[').and_then(|l| l.split(']').next()) {
                context = normalise_key(name);
                map.entries.push((context.clone(), line_no));
            } else if let Some((key, _)) = line.split_once('=') {
                let key = normalise_key(key);
                if !key.is_empty() && !key.starts_with('#') && !key.contains(['{', ',']) {
                    map.entries.push((join(&context, &key), line_no));
                }
            }
        }
        map
    }

    /// The line of `path` (`voltage.harmonics[2].order`, `events[0]`), or of the nearest
    /// enclosing key or table that is in the text.
    pub fn line_of(&self, path: &str) -> Option<u64> {
        let mut p = path.to_string();
        loop {
            if let Some((_, line)) = self.entries.iter().find(|(k, _)| *k == p) {
                return Some(*line);
            }
            let cut = p.rfind(['.', '['])?;
            p.truncate(cut);
            if p.is_empty() {
                return None;
            }
        }
    }

    /// The line (1-based) holding byte `offset`, and the key path defined on that line or,
    /// failing that, the last key or table before it.
    pub fn at_offset(&self, offset: usize) -> (u64, Option<String>) {
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i as u64 + 1,
            Err(i) => i as u64,
        }
        .max(1);
        let path = self
            .entries
            .iter()
            .rev()
            .find(|(_, l)| *l <= line)
            .map(|(k, _)| k.clone());
        (line, path)
    }
}

fn normalise_key(k: &str) -> String {
    k.split('.')
        .map(|s| s.trim().trim_matches('"').trim_matches('\''))
        .collect::<Vec<_>>()
        .join(".")
}

fn join(context: &str, key: &str) -> String {
    if context.is_empty() {
        key.to_string()
    } else {
        format!("{context}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_keys_in_tables_and_arrays_of_tables() {
        let text = "sample_rate = 1\n[voltage]\nmagnitude = [1, 2, 3]\n\
                    [[events]]\nstart = 1\n[[events]]\nkind = \"dip\"\nstart = 2\n";
        let m = KeyMap::new(text);
        assert_eq!(m.line_of("sample_rate"), Some(1));
        assert_eq!(m.line_of("voltage.magnitude[1]"), Some(3));
        assert_eq!(m.line_of("events[1].start"), Some(8));
        assert_eq!(m.line_of("events[1].residual"), Some(6));
        assert_eq!(m.line_of("noise.voltage_db"), None);
        let off = text.find("kind").unwrap();
        assert_eq!(m.at_offset(off), (7, Some("events[1].kind".to_string())));
    }
}
