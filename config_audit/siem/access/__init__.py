"""The access review: grants, orphaned and over-permissive access, unusual activity, sign-off."""
