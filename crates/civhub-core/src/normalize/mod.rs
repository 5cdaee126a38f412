//! Normalizers for the values found in department exports.

pub mod address;
pub mod code;
pub mod company;
pub mod date;
pub mod month;
pub mod name;
pub mod number;
pub mod phone;
pub mod text;

#[cfg(test)]
mod proptests;
