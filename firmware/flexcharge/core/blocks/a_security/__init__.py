# A Security: A01 password update, A04 security events (A02/A03/A05 certificate and profile
# use cases build on flexcharge.security's certificate store).
