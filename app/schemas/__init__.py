"""Request and response models (pydantic v2): XCreate / XUpdate / XRead."""
