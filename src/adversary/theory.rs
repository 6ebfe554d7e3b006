//! Closed-form results the simulator is validated against (placeholder).
