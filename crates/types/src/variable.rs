//! Function variables: key/value pairs handed to every run of the function.

use crate::Timestamp;
use crate::id::{FunctionId, VariableId};

pub const KEY_MAX_LEN: usize = 255;
pub const VALUE_MAX_LEN: usize = 8192;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable {
    pub id: VariableId,
    pub function_id: FunctionId,
    pub key: String,
    /// Plaintext here; the store encrypts it at rest.
    pub value: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}
