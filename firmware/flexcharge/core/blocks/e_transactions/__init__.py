# E transactions (E01-E15), J metering (J01-J03) and the EVSE charging controller.
