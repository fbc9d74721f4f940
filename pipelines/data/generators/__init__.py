"""Synthetic data sets with a known generating rule (ad-click, and tabular churn/species/prices)."""
