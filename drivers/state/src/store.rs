//! A directory of persistent definitions, one `<name>.xml` per object.
//!
//! [`ConfigStore::list`] never fails because of one bad file: a file that cannot be read, does not
//! parse as the store's kind of object, or names another object than its file name is reported in
//! [`Listing::problems`] by its path, and every other object still lists. Dot-files (the
//! temporaries of [`super::atomic`]) and files not ending in `.xml` (locks) are not objects.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{atomic, validate_name, StateError};

const SUFFIX: &str = ".xml";

/// One file that could not be loaded, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileProblem {
    pub path: PathBuf,
    pub message: String,
}

impl std::fmt::Display for FileProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

/// The result of [`ConfigStore::list`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    /// Valid object names, sorted.
    pub names: Vec<String>,
    /// Files that were skipped, sorted by path.
    pub problems: Vec<FileProblem>,
    /// Temporary files of crashed writers that were removed.
    pub cleaned: Vec<PathBuf>,
}

/// Parses a stored definition far enough to tell the name it defines, or says why it cannot.
/// Each driver passes its own (domain, network ...), so the store knows no XML model.
pub type NameOf = Arc<dyn Fn(&str) -> Result<String, String> + Send + Sync>;

#[derive(Clone)]
pub struct ConfigStore {
    dir: PathBuf,
    /// "domain", "network": for messages.
    kind: &'static str,
    name_of: NameOf,
}

impl std::fmt::Debug for ConfigStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigStore")
            .field("dir", &self.dir)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl ConfigStore {
    /// A store of `kind` objects over `dir`, created (mode 0700) if missing. `name_of` checks
    /// each file while listing.
    pub fn open(
        dir: impl Into<PathBuf>,
        kind: &'static str,
        name_of: NameOf,
    ) -> Result<ConfigStore, StateError> {
        use std::os::unix::fs::DirBuilderExt;
        let dir = dir.into();
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(|e| StateError::io(&dir, e))?;
        Ok(ConfigStore { dir, kind, name_of })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of object `name` (after validating the name).
    pub fn path_of(&self, name: &str) -> Result<PathBuf, StateError> {
        validate_name(name)?;
        Ok(self.dir.join(format!("{name}{SUFFIX}")))
    }

    /// The valid objects, and a problem per file that is not one. Fails only when the directory
    /// itself cannot be read. Removes temporaries left by writers that crashed.
    pub fn list(&self) -> Result<Listing, StateError> {
        let mut out = Listing {
            cleaned: atomic::clean_stale_temps(&self.dir)?,
            ..Listing::default()
        };
        let entries = fs::read_dir(&self.dir).map_err(|e| StateError::io(&self.dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| StateError::io(&self.dir, e))?;
            let path = entry.path();
            let file_name = entry.file_name();
            let Some(file_name) = file_name.to_str() else {
                if !file_name.as_encoded_bytes().starts_with(b".") {
                    out.problems.push(FileProblem {
                        path,
                        message: "file name is not valid UTF-8".to_string(),
                    });
                }
                continue;
            };
            if file_name.starts_with('.') {
                continue;
            }
            let Some(name) = file_name.strip_suffix(SUFFIX) else {
                continue;
            };
            match self.check(name, &path) {
                Ok(()) => out.names.push(name.to_string()),
                Err(message) => out.problems.push(FileProblem { path, message }),
            }
        }
        out.names.sort();
        out.problems.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }

    /// The object names by file name alone, sorted: no file is read. For callers that read
    /// each definition anyway and report a bad one themselves (a listing that must stay fast
    /// with a thousand objects). Removes temporaries left by writers that crashed.
    pub fn names(&self) -> Result<Vec<String>, StateError> {
        atomic::clean_stale_temps(&self.dir)?;
        let entries = fs::read_dir(&self.dir).map_err(|e| StateError::io(&self.dir, e))?;
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| StateError::io(&self.dir, e))?;
            let file_name = entry.file_name();
            let Some(name) = file_name
                .to_str()
                .filter(|f| !f.starts_with('.'))
                .and_then(|f| f.strip_suffix(SUFFIX))
            else {
                continue;
            };
            names.push(name.to_string());
        }
        names.sort();
        Ok(names)
    }

    fn check(&self, name: &str, path: &Path) -> Result<(), String> {
        validate_name(name).map_err(|e| e.to_string())?;
        let xml = fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
        let defined = (self.name_of)(&xml).map_err(|e| format!("cannot parse: {e}"))?;
        if defined != name {
            return Err(format!(
                "defines {} '{defined}', which does not match the file name",
                self.kind
            ));
        }
        Ok(())
    }

    /// The XML of object `name`, as stored.
    pub fn read(&self, name: &str) -> Result<String, StateError> {
        let path = self.path_of(name)?;
        fs::read_to_string(&path).map_err(|e| self.not_found_or_io(name, path, e))
    }

    /// Store `xml` as object `name`, atomically replacing any previous version. The XML is
    /// stored as given; checking it is the caller's job (it has the driver's context).
    pub fn write(&self, name: &str, xml: &str) -> Result<(), StateError> {
        let path = self.path_of(name)?;
        atomic::write(&path, xml.as_bytes())
    }

    /// Remove object `name`; [`StateError::NotFound`] when it does not exist.
    pub fn remove(&self, name: &str) -> Result<(), StateError> {
        let path = self.path_of(name)?;
        fs::remove_file(&path).map_err(|e| self.not_found_or_io(name, path, e))?;
        fs::File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| StateError::io(&self.dir, e))
    }

    fn not_found_or_io(&self, name: &str, path: PathBuf, e: io::Error) -> StateError {
        if e.kind() == io::ErrorKind::NotFound {
            StateError::NotFound {
                name: name.to_string(),
                path,
            }
        } else {
            StateError::io(path, e)
        }
    }
}
