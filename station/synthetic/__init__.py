"""The station's own synthetic production line: seeded part images with exact defect boxes."""
