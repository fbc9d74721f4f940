"""The input data: which files a run reads, checks before TFX starts, generators and the scaffold."""
