//! The transfer zone of N4.4: the EEA, the UK and Switzerland. A module of
//! its own so the gate, the configuration and the workflows can all read it
//! without importing each other.

/// Whether a country is in the EEA, the UK or Switzerland: Service Data
/// leaving this zone needs a transfer mechanism on record (N4.4).
pub fn in_transfer_zone(country: &str) -> bool {
    const ZONE: [&str; 33] = [
        // EU member states
        "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT",
        "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
        // EEA members outside the EU
        "IS", "LI", "NO", // The UK and Switzerland
        "GB", "CH", "UK",
    ];
    ZONE.contains(&country)
}
