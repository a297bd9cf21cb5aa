//! One module per API dialect. Each face maps its wire contract onto the domain and the store, and
//! nothing else: no face talks SQL, and no face knows another.

pub mod billing;
pub mod crm;
pub mod office;
pub mod parts;
pub mod track;

use crate::kit::Face;

/// Every face the server speaks. A new face is a module above and one line here.
pub static FACES: &[&Face] = &[&crm::FACE, &parts::FACE, &billing::FACE, &office::FACE, &track::FACE];
