//! The runtimes functions may use: the catalogue the executor discovered at start-up, fixed
//! for the life of the process.

use std::sync::Arc;

use functiond_types::runtime::Runtime;
use functiond_types::scope::Scope;

use crate::caller::Caller;
use crate::error::Result;

#[derive(Debug, Clone)]
pub struct Runtimes {
    catalogue: Arc<[Runtime]>,
}

impl Runtimes {
    pub fn new(catalogue: Vec<Runtime>) -> Self {
        Self {
            catalogue: catalogue.into(),
        }
    }

    pub fn list(&self, caller: &Caller) -> Result<&[Runtime]> {
        caller.require(Scope::FunctionsRead)?;
        Ok(&self.catalogue)
    }

    pub fn get(&self, id: &str) -> Option<&Runtime> {
        self.catalogue.iter().find(|runtime| runtime.id == id)
    }

    pub fn ids(&self) -> Vec<&str> {
        self.catalogue.iter().map(|r| r.id.as_str()).collect()
    }
}
