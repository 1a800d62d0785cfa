# Station configuration checks (DESIGN.md launcher contract): bad configs name the entry.
from support import raises
from flexcharge.lifecycle.config import check, ConfigError


def base(**kw):
    c = {"identity": "CS001", "csms_url": "ws://127.0.0.1:9000/ocpp", "evses": [{"id": 1}]}
    c.update(kw)
    return c


def msg(cfg):
    with raises(ConfigError) as e:
        check(cfg)
    return str(e.value)


def test_defaults_filled():
    c = check(base())
    assert c["security_profile"] == 0 and c["ocpp_versions"] == ["ocpp2.0.1"]
    assert c["evses"][0] == {"id": 1, "connectors": 1, "max_current": 32, "phases": 3, "voltage": 230}
    assert c["device_model"] == [] and c["tls"] == {}
    assert c["firmware_probation_s"] == 180  # L01/L04 registration bound of a new image


def test_firmware_probation_bound_is_checked():
    assert check(base(firmware_probation_s=30))["firmware_probation_s"] == 30
    for bad in (0, 4, 86401, 1.5, "60", True):
        assert "firmware_probation_s" in msg(base(firmware_probation_s=bad))


def test_mandatory_and_unknown_keys():
    c = base()
    del c["identity"]
    assert "identity" in msg(c)
    assert "colour" in msg(base(colour="red"))
    assert "evses[0].wheels" in msg(base(evses=[{"id": 1, "wheels": 4}]))


def test_profiles_need_their_material():
    assert "basic_auth_password" in msg(base(security_profile=1))
    assert "tls.ca" in msg(base(security_profile=2, basic_auth_password="x" * 16, csms_url="wss://h/o"))
    assert "tls.key" in msg(base(security_profile=3, csms_url="wss://h/o", tls={"ca": "a", "cert": "b"}))
    # never fall back to plain ws for profiles 2 and 3
    assert "wss" in msg(base(security_profile=3, tls={"ca": "a", "cert": "b", "key": "c"}))
    assert "wss" in msg(base(security_profile=0, csms_url="wss://h/o"))
    assert "security_profile" in msg(base(security_profile=4))


def test_values_are_checked():
    assert "identity" in msg(base(identity="a/b"))
    assert "csms_url" in msg(base(csms_url="http://x"))
    assert "model" in msg(base(model="m" * 21))
    assert "ocpp1.6" in msg(base(ocpp_versions=["ocpp1.6"]))
    assert "twice" in msg(base(evses=[{"id": 1}, {"id": 1}]))
    assert "gaps" in msg(base(evses=[{"id": 1}, {"id": 3}]))
    assert "evses[0].connectors" in msg(base(evses=[{"id": 1, "connectors": 0}]))
