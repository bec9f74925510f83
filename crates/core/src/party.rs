//! Who a track, an alert or a filing belongs to.

/// A party's number: the operator (or authority) that owns tracks and filings, and to which
/// alerts are told. The store numbers parties with the same type (`deconflict_store::PartyId`
/// is this alias), so the two are interchangeable.
pub type PartyId = i64;
