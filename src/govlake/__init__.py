"""govlake: data integration for a city's e-government department systems."""

__version__ = "0.1.0"
