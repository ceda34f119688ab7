//! Field checks shared by every entry type.
//!
//! Rule ids are `<entry>.<field path with _>_<kind>` for field checks (kinds: `length` for text,
//! `count` for lists, `range` for numbers, `format`, `size` for inline JSON, `unique`, `control` for
//! characters a terminal acts on), and
//! `<entry>.<name>` for the other rules.
use serde::{de::DeserializeOwned, Deserialize, Deserializer};
use serde_json::{value::RawValue, Value};

use crate::blake2b::blake2b;
use crate::input::{decode, invalid, Op, Outcome, ValidationInput, Verdict};
use crate::limits::{Range, CID};

/// The rules of one entry type.
pub type Rules = fn(&ValidationInput) -> Verdict;

/// serde lets a missing `Option` field through as `None`; the contract (zod `.nullable()`) wants the key
/// present, so nullable fields deserialize through this to make a missing key an error.
pub fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    Option::deserialize(d)
}

/// The kinds of HoloHash entries reference (DNA hashes never appear in entries; entry hashes only where a
/// batch cites its private leaves).
#[derive(Clone, Copy, Debug)]
pub enum HashKind {
    Agent,
    Action,
    Entry,
}

impl HashKind {
    fn prefix(self) -> [u8; 3] {
        match self {
            HashKind::Agent => [0x84, 0x20, 0x24],
            HashKind::Action => [0x84, 0x29, 0x24],
            HashKind::Entry => [0x84, 0x21, 0x24],
        }
    }

    /// How the prefix reads in a HoloHashB64.
    fn b64_prefix(self) -> &'static str {
        match self {
            HashKind::Agent => "uhCAk",
            HashKind::Action => "uhCkk",
            HashKind::Entry => "uhCEk",
        }
    }

    fn name(self) -> &'static str {
        match self {
            HashKind::Agent => "agent",
            HashKind::Action => "action",
            HashKind::Entry => "entry",
        }
    }
}

fn base64url_value(c: u8) -> Option<u32> {
    match c {
        b'A'..=b'Z' => Some((c - b'A') as u32),
        b'a'..=b'z' => Some((c - b'a') as u32 + 26),
        b'0'..=b'9' => Some((c - b'0') as u32 + 52),
        b'-' => Some(62),
        b'_' => Some(63),
        _ => None,
    }
}

/// The 39 bytes of "u" + 52 base64url characters.
fn decode_hash(s: &str) -> Option<[u8; 39]> {
    let chars = s.strip_prefix('u')?.as_bytes();
    if chars.len() != 52 {
        return None;
    }
    let mut out = [0u8; 39];
    for (group, quad) in chars.chunks(4).enumerate() {
        let mut n = 0u32;
        for &c in quad {
            n = (n << 6) | base64url_value(c)?;
        }
        out[group * 3..group * 3 + 3].copy_from_slice(&n.to_be_bytes()[1..]);
    }
    Some(out)
}

/// Why `s` is not a HoloHashB64 of `kind` (same wording as the contract), or None when it is one.
pub fn hash_problem(s: &str, kind: HashKind) -> Option<String> {
    if !s.starts_with('u') {
        return Some("must start with \"u\" (base64url multibase)".into());
    }
    let bytes = match decode_hash(s) {
        Some(bytes) => bytes,
        None => return Some("must be \"u\" followed by 52 base64url characters".into()),
    };
    if bytes[..3] != kind.prefix() {
        return Some(format!("has the wrong type prefix ({} hashes start with {:?})", kind.name(), kind.b64_prefix()));
    }
    let h16 = blake2b::<16>(&bytes[3..35]);
    let mut loc = [0u8; 4];
    for (i, b) in h16.iter().enumerate() {
        loc[i % 4] ^= b;
    }
    if bytes[35..] != loc {
        return Some("has wrong DHT location bytes".into());
    }
    None
}

fn is_base58(c: char) -> bool {
    c.is_ascii_alphanumeric() && !matches!(c, '0' | 'O' | 'I' | 'l')
}

/// CIDv0 ("Qm" + 44 base58btc) or base32 CIDv1 ("ba" + base32 lowercase), within the CID length bounds.
pub fn is_cid(s: &str) -> bool {
    let len = s.len() as u64;
    if len < CID.min || len > CID.max {
        return false;
    }
    let v0 = s.len() == 46 && s.starts_with("Qm") && s.chars().all(is_base58);
    let v1 = s.starts_with("ba") && s.chars().all(|c| matches!(c, 'a'..='z' | '2'..='7'));
    v0 || v1
}

pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Characters a terminal or an editor acts on instead of showing: C0 controls, DEL and C1 controls (escape
/// sequences can clear a screen or fake a line), and the bidirectional formatting characters that reorder
/// what is shown ("Trojan Source").
pub fn is_control(c: char) -> bool {
    c.is_control() || matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// The first character of `s` that is a control character, other than those `allowed`, with its index.
fn first_control(s: &str, allowed: &[char]) -> Option<(usize, char)> {
    s.chars().enumerate().find(|&(_, c)| is_control(c) && !allowed.contains(&c))
}

/// `first` for the first character, `rest` for the others; at least one character.
fn shaped(s: &str, first: fn(char) -> bool, rest: fn(char) -> bool) -> bool {
    let mut chars = s.chars();
    chars.next().map_or(false, first) && chars.all(rest)
}

fn lower_alnum(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

pub fn is_tag(s: &str) -> bool {
    shaped(s, lower_alnum, |c| lower_alnum(c) || matches!(c, '.' | '_' | ':' | '/' | '-'))
}

pub fn is_slug(s: &str) -> bool {
    shaped(s, lower_alnum, |c| lower_alnum(c) || matches!(c, '.' | '_' | '-'))
}

/// `a.b_c.d2`: dot-separated segments, each a lowercase letter then lowercase letters, digits or `_`.
pub fn is_dotted(s: &str) -> bool {
    s.split('.').all(|seg| shaped(seg, |c| c.is_ascii_lowercase(), |c| lower_alnum(c) || c == '_'))
}

/// `type/subtype`, each a letter or digit then letters, digits or `!#$&^_.+-`.
pub fn is_mime(s: &str) -> bool {
    fn token(t: &str) -> bool {
        shaped(t, |c| c.is_ascii_alphanumeric(), |c| c.is_ascii_alphanumeric() || "!#$&^_.+-".contains(c))
    }
    matches!(s.split_once('/'), Some((t, sub)) if token(t) && token(sub))
}

/// Checks for the fields of one entry type; `entry` is the rule id prefix (e.g. `node_capability`).
pub struct Ck {
    pub entry: &'static str,
}

impl Ck {
    pub const fn new(entry: &'static str) -> Self {
        Ck { entry }
    }

    /// A failure of the rule `<entry>.<name>`.
    pub fn fail(&self, name: &str, message: impl Into<String>) -> Outcome {
        invalid(format!("{}.{}", self.entry, name), message)
    }

    pub fn rule(&self, name: &str, ok: bool, message: impl FnOnce() -> String) -> Verdict {
        if ok {
            Ok(())
        } else {
            Err(self.fail(name, message()))
        }
    }

    fn field(&self, field: &str, kind: &str, ok: bool, message: impl FnOnce() -> String) -> Verdict {
        if ok {
            return Ok(());
        }
        Err(self.fail(&format!("{}_{kind}", field.replace('.', "_")), format!("{field} {}", message())))
    }

    /// Decodes an entry; a shape the contract does not allow fails `<entry>.shape`.
    pub fn parse<T: DeserializeOwned>(&self, entry: Option<&RawValue>) -> Result<T, Outcome> {
        decode(entry).map_err(|e| self.fail("shape", format!("entry does not match the contract: {e}")))
    }

    pub fn text(&self, field: &str, s: &str, r: Range) -> Verdict {
        let n = s.chars().count() as u64;
        self.field(field, "length", n >= r.min && n <= r.max, || {
            format!("must be {}..{} characters, got {n}", r.min, r.max)
        })
    }

    fn no_control(&self, field: &str, s: &str, allowed: &[char]) -> Verdict {
        let found = first_control(s, allowed);
        self.field(field, "control", found.is_none(), || {
            let (i, c) = found.unwrap_or_default();
            format!("must not contain control or bidi characters (U+{:04X} at character {i})", c as u32)
        })
    }

    /// A short human string shown on one line (a name, a model name): bounded, without control characters.
    pub fn line(&self, field: &str, s: &str, r: Range) -> Verdict {
        self.text(field, s, r)?;
        self.no_control(field, s, &[])
    }

    pub fn opt_line(&self, field: &str, s: &Option<String>, r: Range) -> Verdict {
        s.as_deref().map_or(Ok(()), |s| self.line(field, s, r))
    }

    /// Longer text that may span lines (a reason, policy source): bounded, no control character but tab and
    /// line breaks.
    pub fn prose(&self, field: &str, s: &str, r: Range) -> Verdict {
        self.text(field, s, r)?;
        self.no_control(field, s, &['\t', '\n', '\r'])
    }

    pub fn opt_prose(&self, field: &str, s: &Option<String>, r: Range) -> Verdict {
        s.as_deref().map_or(Ok(()), |s| self.prose(field, s, r))
    }

    pub fn int(&self, field: &str, v: u64, r: Range) -> Verdict {
        self.field(field, "range", v >= r.min && v <= r.max, || format!("must be {}..{}, got {v}", r.min, r.max))
    }

    pub fn opt_int(&self, field: &str, v: Option<u64>, r: Range) -> Verdict {
        v.map_or(Ok(()), |v| self.int(field, v, r))
    }

    pub fn num(&self, field: &str, v: f64, r: Range) -> Verdict {
        let ok = v.is_finite() && v >= r.min as f64 && v <= r.max as f64;
        self.field(field, "range", ok, || format!("must be {}..{}, got {v}", r.min, r.max))
    }

    pub fn opt_num(&self, field: &str, v: Option<f64>, r: Range) -> Verdict {
        v.map_or(Ok(()), |v| self.num(field, v, r))
    }

    pub fn count<T>(&self, field: &str, items: &[T], r: Range) -> Verdict {
        let n = items.len() as u64;
        self.field(field, "count", n >= r.min && n <= r.max, || format!("must have {}..{} items, got {n}", r.min, r.max))
    }

    pub fn format(&self, field: &str, ok: bool, what: &str) -> Verdict {
        self.field(field, "format", ok, || format!("must be {what}"))
    }

    pub fn hash(&self, field: &str, s: &str, kind: HashKind) -> Verdict {
        match hash_problem(s, kind) {
            None => Ok(()),
            Some(problem) => self.field(field, "format", false, || format!("{} hash {problem}", kind.name())),
        }
    }

    pub fn opt_hash(&self, field: &str, s: &Option<String>, kind: HashKind) -> Verdict {
        s.as_deref().map_or(Ok(()), |s| self.hash(field, s, kind))
    }

    pub fn cid(&self, field: &str, s: &str) -> Verdict {
        self.format(field, is_cid(s), "a CIDv0 (\"Qm\" + 44 base58 characters) or a base32 CIDv1 (\"ba...\")")
    }

    pub fn sha256(&self, field: &str, s: &str) -> Verdict {
        self.format(field, is_sha256_hex(s), "64 lowercase hex characters (sha256)")
    }

    /// A blake2b-256 digest (a Merkle root or node): 64 lowercase hex characters, as a sha256 is written.
    pub fn digest(&self, field: &str, s: &str) -> Verdict {
        self.format(field, is_sha256_hex(s), "64 lowercase hex characters (a blake2b-256 digest)")
    }

    /// Bounded text that is also a tag.
    pub fn tag(&self, field: &str, s: &str) -> Verdict {
        self.text(field, s, crate::limits::TAG)?;
        self.format(field, is_tag(s), "lowercase letters, digits and ._:/- (starting with a letter or digit)")
    }

    pub fn slug(&self, field: &str, s: &str, r: Range) -> Verdict {
        self.text(field, s, r)?;
        self.format(field, is_slug(s), "lowercase letters, digits and ._- (starting with a letter or digit)")
    }

    pub fn dotted(&self, field: &str, s: &str, r: Range) -> Verdict {
        self.text(field, s, r)?;
        self.format(field, is_dotted(s), "a dotted lowercase identifier like \"infer.generate\"")
    }

    /// Inline JSON whose compact serialisation fits in `r.max` bytes.
    pub fn json_size(&self, field: &str, v: &Value, r: Range) -> Verdict {
        let n = serde_json::to_vec(v).map(|b| b.len() as u64).unwrap_or(u64::MAX);
        self.field(field, "size", n <= r.max, || format!("must serialise to at most {} bytes of JSON, got {n}", r.max))
    }

    pub fn unique<'a>(&self, field: &str, items: impl Iterator<Item = &'a str>) -> Verdict {
        let mut seen: Vec<&str> = Vec::new();
        for item in items {
            if seen.contains(&item) {
                return self.field(field, "unique", false, || format!("has \"{item}\" twice"));
            }
            seen.push(item);
        }
        Ok(())
    }

    /// Which agents may update or delete this entry type; creates pass.
    pub fn rights(&self, input: &ValidationInput, update: Change, delete: Change) -> Verdict {
        let (change, name) = match input.op {
            Op::Create => return Ok(()),
            Op::Update => (update, "update"),
            Op::Delete => (delete, "delete"),
        };
        match change {
            Change::Never => Err(self.fail(&format!("no_{name}"), format!("a {} cannot be {name}d", self.entry))),
            Change::OriginalAuthor => self.rule(&format!("{name}_author"), input.original().author == input.author, || {
                format!("only the original author {} may {name} it", input.original().author)
            }),
        }
    }
}

/// Who may update (or delete) an entry.
#[derive(Clone, Copy)]
pub enum Change {
    Never,
    OriginalAuthor,
}
