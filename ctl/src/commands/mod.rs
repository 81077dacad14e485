//! One file per command group. Each sends its request(s) and prints the answer.

pub mod daemon;
pub mod data;
pub mod install;
pub mod ops;
pub mod system;
