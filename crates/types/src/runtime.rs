//! Runtimes: the languages a function can be written in, as the executor found them on
//! the host. Ids follow Appwrite's `<language>-<version>` naming (`node-20.0`, `python-3.11`).

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Runtime {
    /// `node-20.0`
    pub id: String,
    /// `Node.js`
    pub name: String,
    /// `20.0`
    pub version: String,
    /// What the runtime is built on: here, the interpreter and its full version.
    pub base: String,
    /// Where the interpreter lives on the host.
    pub image: String,
    /// `node.png`
    pub logo: String,
    /// Architectures, in Appwrite's words (`x86`, `arm`).
    pub supports: Vec<String>,
}
