# PEM -> DER. MicroPython's ssl (mbedTLS build) accepts DER only.
import binascii


def pem_blocks(text):
    """[(label, der)] for every -----BEGIN label----- ... -----END label----- block."""
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode()
        except UnicodeError:
            raise ValueError("PEM data is not text")
    out = []
    label = None
    body = []
    for line in text.split("\n"):
        line = line.strip()
        if label is None:
            if line.startswith("-----BEGIN ") and line.endswith("-----"):
                label = line[11:-5]
                body = []
        elif line.startswith("-----END "):
            if line != "-----END " + label + "-----":
                raise ValueError("PEM block %s ends with %s" % (label, line))
            try:
                der = binascii.a2b_base64("".join(body))
            except ValueError:
                raise ValueError("bad base64 in PEM block " + label)
            if not der or der[0] != 0x30:
                raise ValueError("PEM block %s is not DER (no ASN.1 SEQUENCE)" % label)
            out.append((label, der))
            label = None
        elif ":" in line:
            # RFC 1421 headers such as "Proc-Type: 4,ENCRYPTED": an encrypted key.
            raise ValueError("encrypted or annotated PEM block %s is not supported" % label)
        elif line:
            body.append(line)
    if label is not None:
        raise ValueError("PEM block %s has no END line" % label)
    return out


def pem_to_der(text, label=None):
    """DER bytes of each PEM block in text (str or bytes), in file order.

    label: keep only blocks with this label ("CERTIFICATE"), or, for "PRIVATE KEY",
    any of PRIVATE KEY / EC PRIVATE KEY / RSA PRIVATE KEY. Raises ValueError when
    nothing matches.
    """
    out = []
    for lab, der in pem_blocks(text):
        if label is None or lab == label or (label == "PRIVATE KEY" and lab.endswith(" PRIVATE KEY")):
            if lab == "ENCRYPTED PRIVATE KEY":
                raise ValueError("encrypted private keys are not supported")
            out.append(der)
    if not out:
        raise ValueError("no PEM %s block found" % (label or "data"))
    return out
