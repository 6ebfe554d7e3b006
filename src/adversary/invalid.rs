//! Crafting invalid blocks and transactions (placeholder).
