# L Firmware management (L01-L04).
