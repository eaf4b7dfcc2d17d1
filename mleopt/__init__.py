"""mleopt: maximum-likelihood estimation with exact derivatives from its own AD engine."""
