//! The application's one error type: a category the CLI maps to an exit status and the
//! server to an HTTP status, and a message for people.

use cxkpi_engine::EngineError;
use cxkpi_store::StoreError;

/// What kind of failure an [`AppError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request is malformed: an unknown KPI, dimension, flag value or duration.
    Usage,
    /// What was asked for does not exist: a workspace, a customer, a model not yet fitted.
    NotFound,
    /// The input cannot be used: a refused or unreadable file.
    Invalid,
    /// The state of the workspace stands in the way: a damaged store, a lock held too
    /// long, a model of another version.
    Conflict,
    /// The machine failed (IO, the query engine) or cxkpi has a bug.
    Internal,
    /// The service cannot take the request now (it is shutting down).
    Unavailable,
}

impl ErrorKind {
    /// The CLI's exit status: 2 for a usage error, 1 for every other failure.
    pub fn exit_code(self) -> u8 {
        match self {
            ErrorKind::Usage => 2,
            ErrorKind::NotFound
            | ErrorKind::Invalid
            | ErrorKind::Conflict
            | ErrorKind::Internal
            | ErrorKind::Unavailable => 1,
        }
    }
}

/// A failed use case.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct AppError {
    /// The category.
    pub kind: ErrorKind,
    /// What went wrong, for people (it names files, lines, flags, valid values).
    pub message: String,
}

impl AppError {
    /// An error of `kind`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> AppError {
        AppError {
            kind,
            message: message.into(),
        }
    }

    /// A usage error.
    pub fn usage(message: impl Into<String>) -> AppError {
        AppError::new(ErrorKind::Usage, message)
    }
}

/// The application's result type.
pub type Result<T, E = AppError> = std::result::Result<T, E>;

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> AppError {
        let kind = match &e {
            StoreError::Usage(_) => ErrorKind::Usage,
            StoreError::NoWorkspace(_) | StoreError::NoStore(_) => ErrorKind::NotFound,
            StoreError::AlreadyWorkspace(_)
            | StoreError::Damaged { .. }
            | StoreError::LockTimeout { .. } => ErrorKind::Conflict,
            StoreError::Config { .. }
            | StoreError::Refused { .. }
            | StoreError::Unreadable { .. } => ErrorKind::Invalid,
            StoreError::Io { .. } | StoreError::Engine(_) | StoreError::Internal(_) => {
                ErrorKind::Internal
            }
        };
        AppError::new(kind, e.to_string())
    }
}

impl From<EngineError> for AppError {
    fn from(e: EngineError) -> AppError {
        match e {
            EngineError::Store(e) => e.into(),
            // A dimension in --by or --where that the KPI does not have is the
            // caller's to fix, whichever flag named it.
            EngineError::UnknownDimension { .. }
            | EngineError::Filter(_)
            | EngineError::Periods => AppError::usage(e.to_string()),
            EngineError::Config(_) => AppError::new(ErrorKind::Invalid, e.to_string()),
            EngineError::Engine(_) | EngineError::Arrow(_) => {
                AppError::new(ErrorKind::Internal, e.to_string())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_map_to_exit_codes() {
        let unknown = EngineError::UnknownDimension {
            kpi: "nps",
            given: "planet".into(),
            valid: vec!["region".into()],
        };
        let e = AppError::from(unknown);
        assert_eq!((e.kind, e.kind.exit_code()), (ErrorKind::Usage, 2));
        assert!(e.message.contains("planet") && e.message.contains("region"));
        let damaged = AppError::from(StoreError::Damaged {
            problem: "x".into(),
        });
        assert_eq!(
            (damaged.kind, damaged.kind.exit_code()),
            (ErrorKind::Conflict, 1)
        );
        let missing = AppError::from(EngineError::Store(StoreError::NoWorkspace(
            "/nowhere".into(),
        )));
        assert_eq!(missing.kind, ErrorKind::NotFound);
    }
}
