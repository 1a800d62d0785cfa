# M Certificate management: M03 retrieve, M04 delete, M05 install CA certificates (over security/certstore.py).
