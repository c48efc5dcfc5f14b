"""Signer identity: which signature schemes an APK carries and whose certificates they hold."""
