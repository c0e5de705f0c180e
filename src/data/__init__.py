"""Sources, canonical tables, interactions and the split, item content, fitted features."""
