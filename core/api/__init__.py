"""What every REST route shares: strict input parsing, strict fields, bounded pagination, the error pages."""
