"""ATT&CK tags as Sentinel names them: tactics from its fixed list, techniques only under a listed tactic.

Sentinel's rule validator knows ATT&CK v18: v19's tactics (`defense-impairment`, `stealth`) and
techniques (T1685) are not in it, and it rejects a technique whose tactic is not listed. The
pack tags both numberings; the v18 techniques carry the rule into Sentinel.
"""

from __future__ import annotations

# Sigma's tactic tags (ATT&CK v18) -> Sentinel's tactic names.
_TACTICS = {
    "reconnaissance": "Reconnaissance",
    "resource-development": "ResourceDevelopment",
    "initial-access": "InitialAccess",
    "execution": "Execution",
    "persistence": "Persistence",
    "privilege-escalation": "PrivilegeEscalation",
    "defense-evasion": "DefenseEvasion",
    "credential-access": "CredentialAccess",
    "discovery": "Discovery",
    "lateral-movement": "LateralMovement",
    "collection": "Collection",
    "command-and-control": "CommandAndControl",
    "exfiltration": "Exfiltration",
    "impact": "Impact",
}

# Parent techniques of Azure and Microsoft 365 detections (the pack's and SigmaHQ's) -> their
# tactics in ATT&CK v18, the first the one a rule is listed under when its tags name none.
_TECHNIQUES = {
    "T1003": ("CredentialAccess",),
    "T1020": ("Exfiltration",),
    "T1053": ("Execution", "Persistence", "PrivilegeEscalation"),
    "T1059": ("Execution",),
    "T1070": ("DefenseEvasion",),
    "T1071": ("CommandAndControl",),
    "T1078": ("DefenseEvasion", "Persistence", "PrivilegeEscalation", "InitialAccess"),
    "T1087": ("Discovery",),
    "T1090": ("CommandAndControl",),
    "T1098": ("Persistence", "PrivilegeEscalation"),
    "T1110": ("CredentialAccess",),
    "T1114": ("Collection",),
    "T1133": ("Persistence", "InitialAccess"),
    "T1136": ("Persistence",),
    "T1140": ("DefenseEvasion",),
    "T1199": ("InitialAccess",),
    "T1204": ("Execution",),
    "T1484": ("DefenseEvasion", "PrivilegeEscalation"),
    "T1485": ("Impact",),
    "T1486": ("Impact",),
    "T1489": ("Impact",),
    "T1490": ("Impact",),
    "T1496": ("Impact",),
    "T1526": ("Discovery",),
    "T1528": ("CredentialAccess",),
    "T1530": ("Collection",),
    "T1531": ("Impact",),
    "T1534": ("LateralMovement",),
    "T1537": ("Exfiltration",),
    "T1548": ("PrivilegeEscalation", "DefenseEvasion"),
    "T1550": ("DefenseEvasion", "LateralMovement"),
    "T1552": ("CredentialAccess",),
    "T1556": ("CredentialAccess", "DefenseEvasion", "Persistence"),
    "T1557": ("CredentialAccess", "Collection"),
    "T1562": ("DefenseEvasion",),
    "T1565": ("Impact",),
    "T1566": ("InitialAccess",),
    "T1573": ("CommandAndControl",),
    "T1578": ("DefenseEvasion",),
    "T1589": ("Reconnaissance",),
    "T1606": ("CredentialAccess",),
    "T1621": ("CredentialAccess",),
}


def sentinel_attack(tags: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(tactics, techniques) for a rule's Sigma tags, in the form Sentinel's validator accepts."""
    tactics = [_TACTICS[t.split(".", 1)[1]] for t in tags if t.startswith("attack.") and t[7:] in _TACTICS]
    techniques = []
    for tag in tags:
        name = tag[7:].upper() if tag.startswith("attack.t") else ""
        parent = name.split(".")[0]
        if parent not in _TECHNIQUES:
            continue
        if not set(_TECHNIQUES[parent]) & set(tactics):
            tactics.append(_TECHNIQUES[parent][0])
        techniques.append(name)
    return tuple(dict.fromkeys(tactics)), tuple(dict.fromkeys(techniques))
