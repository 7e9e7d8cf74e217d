//! A journaled key-value store whose writes survive SIGKILL, with fail-rs style failpoints
//! (`FAILPOINTS`) and faultline's evidence protocol, all on the standard library.
pub mod evidence;
pub mod failpoints;
pub mod kv;
