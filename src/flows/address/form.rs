//! The new address as the person types it.

use serde::Deserialize;

use crate::domain::UsAddress;
use crate::domain::address::{AddressErrors, AddressInput};

#[derive(Debug, Default, Clone, Deserialize)]
pub struct AddressForm {
    #[serde(default)]
    pub street: String,
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub city: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub zip: String,
    /// "Edit" on the check page: the form again, with what was typed.
    #[serde(default)]
    pub edit: String,
}

impl AddressForm {
    /// The address, normalised the USPS way; `Err` when it is not one.
    pub fn parse(&self) -> Result<UsAddress, AddressErrors> {
        UsAddress::parse(AddressInput {
            street: self.street.trim(),
            unit: self.unit.trim(),
            city: self.city.trim(),
            state: self.state.trim(),
            zip: self.zip.trim(),
        })
    }
}
