//! Function variables: create, list, get, update, delete. Keys are unique per function;
//! values are stored encrypted and shown in plaintext to callers with `functions.read`.

use std::sync::Arc;

use functiond_store::{Store, StoreError};
use functiond_types::Timestamp;
use functiond_types::id::{FunctionId, ProjectId, VariableId};
use functiond_types::scope::Scope;
use functiond_types::variable::{KEY_MAX_LEN, VALUE_MAX_LEN, Variable};

use crate::caller::Caller;
use crate::error::{Error, Result};
use crate::validate::{required_text, text_length};

/// The parameters of Create Variable and Update Variable; `None` means absent.
#[derive(Debug, Clone, Default)]
pub struct VariableInput {
    pub key: Option<String>,
    pub value: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Variables {
    store: Arc<dyn Store>,
}

impl Variables {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    pub async fn create(
        &self,
        caller: &Caller,
        function: &FunctionId,
        input: VariableInput,
    ) -> Result<Variable> {
        caller.require(Scope::FunctionsWrite)?;
        let key = required_text("key", input.key, KEY_MAX_LEN)?;
        let value = required_text("value", input.value, VALUE_MAX_LEN)?;
        self.ensure_function(&caller.project, function).await?;
        let now = Timestamp::now();
        let variable = Variable {
            id: VariableId::unique(),
            function_id: function.clone(),
            key,
            value,
            created_at: now,
            updated_at: now,
        };
        self.store
            .create_variable(&caller.project, &variable)
            .await
            .map_err(|error| key_conflict(error, &variable.key))?;
        Ok(variable)
    }

    pub async fn list(&self, caller: &Caller, function: &FunctionId) -> Result<Vec<Variable>> {
        caller.require(Scope::FunctionsRead)?;
        self.ensure_function(&caller.project, function).await?;
        Ok(self.store.list_variables(&caller.project, function).await?)
    }

    pub async fn get(
        &self,
        caller: &Caller,
        function: &FunctionId,
        id: &VariableId,
    ) -> Result<Variable> {
        caller.require(Scope::FunctionsRead)?;
        self.ensure_function(&caller.project, function).await?;
        self.find(&caller.project, function, id).await
    }

    /// Sets the key, and the value when one is given (an omitted value keeps the old one).
    pub async fn update(
        &self,
        caller: &Caller,
        function: &FunctionId,
        id: &VariableId,
        input: VariableInput,
    ) -> Result<Variable> {
        caller.require(Scope::FunctionsWrite)?;
        let key = required_text("key", input.key, KEY_MAX_LEN)?;
        let value = input.value.filter(|value| !value.is_empty());
        if let Some(value) = &value {
            text_length("value", value, VALUE_MAX_LEN)?;
        }
        self.ensure_function(&caller.project, function).await?;
        let mut variable = self.find(&caller.project, function, id).await?;
        variable.key = key;
        if let Some(value) = value {
            variable.value = value;
        }
        variable.updated_at = Timestamp::now();
        let updated = self
            .store
            .update_variable(&caller.project, &variable)
            .await
            .map_err(|error| key_conflict(error, &variable.key))?;
        if !updated {
            return Err(Error::VariableNotFound);
        }
        Ok(variable)
    }

    pub async fn delete(
        &self,
        caller: &Caller,
        function: &FunctionId,
        id: &VariableId,
    ) -> Result<()> {
        caller.require(Scope::FunctionsWrite)?;
        self.ensure_function(&caller.project, function).await?;
        if !self
            .store
            .delete_variable(&caller.project, function, id)
            .await?
        {
            return Err(Error::VariableNotFound);
        }
        Ok(())
    }

    async fn ensure_function(&self, project: &ProjectId, function: &FunctionId) -> Result<()> {
        match self.store.get_function(project, function).await? {
            Some(_) => Ok(()),
            None => Err(Error::FunctionNotFound),
        }
    }

    async fn find(
        &self,
        project: &ProjectId,
        function: &FunctionId,
        id: &VariableId,
    ) -> Result<Variable> {
        self.store
            .get_variable(project, function, id)
            .await?
            .ok_or(Error::VariableNotFound)
    }
}

fn key_conflict(error: StoreError, key: &str) -> Error {
    match error {
        StoreError::Conflict { .. } => Error::VariableAlreadyExists {
            key: key.to_owned(),
        },
        other => other.into(),
    }
}
