"""The regimen model: syntax nodes, controlled vocabulary, medicines, lowered regimen."""
