//! API tokens and their scopes, kept in the workspace file `tokens.json`.
//!
//! A token is 32 random bytes from the operating system, written as `cxk_` and 64 hex
//! digits. It is shown once, when created; the file keeps its SHA-256 only, and a
//! presented token is hashed and compared with every stored hash in constant time.
//!
//! Scopes nest: `read` reads; `write` also posts data; `admin` also manages tokens. A
//! `survey` key may only post survey answers, from the web origins it lists, so it can
//! sit in a web page.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use cxkpi_store::Store;

use crate::error::{AppError, ErrorKind, Result};

/// The workspace file holding the tokens' hashes.
pub const TOKENS_FILE: &str = "tokens.json";

/// The format of `tokens.json` this cxkpi writes and reads.
const TOKENS_FORMAT: u32 = 1;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Only `POST /responses`, from the key's origins.
    Survey,
    /// Every read.
    Read,
    /// Reads and data posts (answers, imports).
    Write,
    /// Everything, including managing tokens.
    Admin,
}

impl Scope {
    /// Every scope, least to most.
    pub const ALL: [Scope; 4] = [Scope::Survey, Scope::Read, Scope::Write, Scope::Admin];

    /// The scope's name (`read`).
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Survey => "survey",
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Admin => "admin",
        }
    }

    /// Whether a token of this scope may do what `needed` allows. A survey key does
    /// only what a survey key does; the others nest.
    pub fn permits(self, needed: Scope) -> bool {
        match (self, needed) {
            (Scope::Survey, needed) => needed == Scope::Survey,
            (have, Scope::Survey) => have >= Scope::Write,
            (have, needed) => have >= needed,
        }
    }
}

impl std::str::FromStr for Scope {
    type Err = AppError;

    fn from_str(text: &str) -> Result<Scope> {
        Scope::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| {
                AppError::usage(format!(
                    "unknown scope `{text}`: use read, write, admin or survey"
                ))
            })
    }
}

/// A token as listed: everything but the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Its name, unique in the workspace.
    pub name: String,
    /// What it may do.
    pub scope: Scope,
    /// The web origins a page using it may have (survey keys).
    pub origins: Vec<String>,
    /// When it was created.
    pub created: jiff::Timestamp,
}

/// The tokens of a workspace, ready to check presented tokens against.
#[derive(Debug, Clone, Default)]
pub struct TokenSet {
    entries: Vec<(Token, [u8; 32])>,
}

impl TokenSet {
    /// The token whose hash matches `secret`'s. Every stored hash is compared, each in
    /// constant time, so the time taken says nothing of how close a guess was.
    pub fn authenticate(&self, secret: &str) -> Option<&Token> {
        let hash: [u8; 32] = Sha256::digest(secret.as_bytes()).into();
        let mut found = None;
        for (token, stored) in &self.entries {
            if bool::from(stored.ct_eq(&hash)) {
                found = Some(token);
            }
        }
        found
    }

    /// The tokens, oldest first.
    pub fn tokens(&self) -> impl Iterator<Item = &Token> {
        self.entries.iter().map(|(t, _)| t)
    }
}

#[derive(Serialize, Deserialize)]
struct TokensFile {
    format: u32,
    tokens: Vec<TokenEntry>,
}

#[derive(Serialize, Deserialize)]
struct TokenEntry {
    name: String,
    scope: String,
    sha256: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    origins: Vec<String>,
    created: String,
}

fn invalid_file(store: &Store, reason: impl std::fmt::Display) -> AppError {
    AppError::new(
        ErrorKind::Conflict,
        format!(
            "{} cannot be read: {reason}",
            store.root().join(TOKENS_FILE).display()
        ),
    )
}

/// The workspace's tokens (none when `tokens.json` does not exist).
pub fn load(store: &Store) -> Result<TokenSet> {
    let path = store.root().join(TOKENS_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(TokenSet::default()),
        Err(e) => {
            return Err(AppError::new(
                ErrorKind::Internal,
                format!("reading {}: {e}", path.display()),
            ));
        }
    };
    let file: TokensFile = serde_json::from_str(&text).map_err(|e| invalid_file(store, e))?;
    if file.format != TOKENS_FORMAT {
        return Err(invalid_file(
            store,
            format!(
                "it is of format {}, this cxkpi reads {TOKENS_FORMAT}",
                file.format
            ),
        ));
    }
    let mut entries = Vec::with_capacity(file.tokens.len());
    for entry in file.tokens {
        let scope = entry.scope.parse().map_err(|e| invalid_file(store, e))?;
        let mut hash = [0u8; 32];
        hex_decode(&entry.sha256, &mut hash).ok_or_else(|| {
            invalid_file(
                store,
                format!("token `{}` has a malformed hash", entry.name),
            )
        })?;
        let created = entry.created.parse().map_err(|e| invalid_file(store, e))?;
        entries.push((
            Token {
                name: entry.name,
                scope,
                origins: entry.origins,
                created,
            },
            hash,
        ));
    }
    Ok(TokenSet { entries })
}

fn save(store: &Store, set: &TokenSet) -> Result<()> {
    let file = TokensFile {
        format: TOKENS_FORMAT,
        tokens: set
            .entries
            .iter()
            .map(|(t, hash)| TokenEntry {
                name: t.name.clone(),
                scope: t.scope.as_str().to_string(),
                sha256: hex_encode(hash),
                origins: t.origins.clone(),
                created: t.created.to_string(),
            })
            .collect(),
    };
    let text = serde_json::to_string_pretty(&file)
        .map_err(|e| AppError::new(ErrorKind::Internal, format!("serialising tokens: {e}")))?;
    store.save_private(TOKENS_FILE, text.as_bytes())?;
    Ok(())
}

/// Serialises changes of `tokens.json` between processes (the CLI and a server).
fn lock(store: &Store) -> Result<std::fs::File> {
    let path = store.root().join(format!("{TOKENS_FILE}.lock"));
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .and_then(|f| f.lock().map(|()| f))
        .map_err(|e| {
            AppError::new(
                ErrorKind::Internal,
                format!("locking {}: {e}", path.display()),
            )
        })?;
    Ok(file)
}

fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(AppError::usage(format!(
            "token name `{name}`: use 1 to 64 letters, digits, -, _ and ."
        )))
    }
}

/// What to create.
#[derive(Debug, Clone)]
pub struct NewToken {
    /// What it may do.
    pub scope: Scope,
    /// Its name; by default the scope and a number (`read-2`).
    pub name: Option<String>,
    /// Web origins (`https://shop.example.com`) allowed to use it from a page.
    pub origins: Vec<String>,
}

/// Creates a token; returns it and its secret, which is not kept anywhere.
pub fn create(store: &Store, new: &NewToken) -> Result<(Token, String)> {
    for origin in &new.origins {
        if !cxkpi_core::config::valid_origin(origin) {
            return Err(AppError::usage(format!(
                "--origin `{origin}` is not an origin such as https://example.com"
            )));
        }
    }
    let _lock = lock(store)?;
    let mut set = load(store)?;
    let name = match &new.name {
        Some(name) => {
            check_name(name)?;
            if set.tokens().any(|t| &t.name == name) {
                return Err(AppError::new(
                    ErrorKind::Conflict,
                    format!("a token named `{name}` exists; revoke it or choose another name"),
                ));
            }
            name.clone()
        }
        None => (1..)
            .map(|i| format!("{}-{i}", new.scope.as_str()))
            .find(|n| !set.tokens().any(|t| &t.name == n))
            .expect("a free name"),
    };
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| {
        AppError::new(
            ErrorKind::Internal,
            format!("no randomness from the operating system: {e}"),
        )
    })?;
    let secret = format!("cxk_{}", hex_encode(&bytes));
    let token = Token {
        name,
        scope: new.scope,
        origins: new.origins.clone(),
        created: jiff::Timestamp::now(),
    };
    set.entries
        .push((token.clone(), Sha256::digest(secret.as_bytes()).into()));
    save(store, &set)?;
    Ok((token, secret))
}

/// The workspace's tokens, oldest first.
pub fn list(store: &Store) -> Result<Vec<Token>> {
    Ok(load(store)?.tokens().cloned().collect())
}

/// Revokes the token named `name`; it stops working at once, also in a running server.
pub fn revoke(store: &Store, name: &str) -> Result<Token> {
    let _lock = lock(store)?;
    let mut set = load(store)?;
    let Some(i) = set.entries.iter().position(|(t, _)| t.name == name) else {
        return Err(AppError::new(
            ErrorKind::NotFound,
            format!("no token named `{name}` (`cxkpi token list` lists them)"),
        ));
    };
    let (token, _) = set.entries.remove(i);
    save(store, &set)?;
    Ok(token)
}

fn hex_encode(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn hex_decode(text: &str, out: &mut [u8; 32]) -> Option<()> {
    if text.len() != 64 {
        return None;
    }
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_nest_and_survey_keys_only_post_answers() {
        use Scope::*;
        let table = [
            // (have, needed, permitted)
            (Read, Read, true),
            (Read, Write, false),
            (Read, Survey, false),
            (Write, Read, true),
            (Write, Survey, true),
            (Write, Admin, false),
            (Admin, Admin, true),
            (Admin, Survey, true),
            (Survey, Survey, true),
            (Survey, Read, false),
            (Survey, Write, false),
        ];
        for (have, needed, permitted) in table {
            assert_eq!(have.permits(needed), permitted, "{have:?} for {needed:?}");
        }
    }

    #[test]
    fn only_the_hash_is_kept_and_it_authenticates() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::init(dir.path()).unwrap();
        let (token, secret) = create(
            &store,
            &NewToken {
                scope: Scope::Read,
                name: None,
                origins: Vec::new(),
            },
        )
        .unwrap();
        assert_eq!(token.name, "read-1");
        assert!(secret.starts_with("cxk_") && secret.len() == 68);
        let file = std::fs::read_to_string(dir.path().join(TOKENS_FILE)).unwrap();
        assert!(!file.contains(&secret[4..]), "the secret is not stored");
        // The SHA-256 of the secret, computed here by hand from the digest crate's
        // one-shot function, is what the file holds.
        assert!(file.contains(&hex_encode(&Sha256::digest(secret.as_bytes()))));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(TOKENS_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let set = load(&store).unwrap();
        assert_eq!(set.authenticate(&secret).unwrap().name, "read-1");
        assert!(set.authenticate("cxk_0000").is_none());
        let mut wrong = secret.clone();
        wrong.pop();
        wrong.push('x');
        assert!(set.authenticate(&wrong).is_none());

        let err = create(
            &store,
            &NewToken {
                scope: Scope::Write,
                name: Some("read-1".into()),
                origins: Vec::new(),
            },
        )
        .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Conflict);
        revoke(&store, "read-1").unwrap();
        assert!(load(&store).unwrap().authenticate(&secret).is_none());
        assert_eq!(
            revoke(&store, "read-1").unwrap_err().kind,
            ErrorKind::NotFound
        );
    }
}
