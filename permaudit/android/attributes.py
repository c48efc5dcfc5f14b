"""Resource ids of the ``android:`` manifest attributes the reader needs.

Android reads framework attributes of a binary manifest by resource id, never by the
attribute's name string (``Resources.obtainAttributes``); these ids are public API,
from ``frameworks/base/core/res/res/values/public.xml`` (public-final.xml).
Both the reader and the fixture writer use this one table.
"""

from __future__ import annotations

ANDROID_NS = "http://schemas.android.com/apk/res/android"
TOOLS_NS = "http://schemas.android.com/tools"

ATTRIBUTE_IDS: dict[str, int] = {
    "theme": 0x01010000,
    "label": 0x01010001,
    "icon": 0x01010002,
    "name": 0x01010003,
    "permission": 0x01010006,
    "readPermission": 0x01010007,
    "writePermission": 0x01010008,
    "protectionLevel": 0x01010009,
    "permissionGroup": 0x0101000A,
    "sharedUserId": 0x0101000B,
    "hasCode": 0x0101000C,
    "enabled": 0x0101000E,
    "debuggable": 0x0101000F,
    "exported": 0x01010010,
    "process": 0x01010011,
    "authorities": 0x01010018,
    "grantUriPermissions": 0x0101001B,
    "priority": 0x0101001C,
    "description": 0x01010020,
    "mimeType": 0x01010026,
    "scheme": 0x01010027,
    "host": 0x01010028,
    "path": 0x0101002A,
    "pathPrefix": 0x0101002B,
    "pathPattern": 0x0101002C,
    "targetActivity": 0x01010202,
    "minSdkVersion": 0x0101020C,
    "versionCode": 0x0101021B,
    "versionName": 0x0101021C,
    "targetSdkVersion": 0x01010270,
    "maxSdkVersion": 0x01010271,
    "testOnly": 0x01010272,
    "allowBackup": 0x01010280,
    "glEsVersion": 0x01010281,
    "required": 0x0101028E,
    "isolatedProcess": 0x010103A9,
    "fullBackupContent": 0x010104EB,
    "usesCleartextTraffic": 0x010104EC,
    "directBootAware": 0x01010505,
    "externalService": 0x0101050E,
    "networkSecurityConfig": 0x01010527,
    "requiredFeature": 0x01010554,
    "requiredNotFeature": 0x01010555,
    "compileSdkVersion": 0x01010572,
    "compileSdkVersionCodename": 0x01010573,
    "versionCodeMajor": 0x01010576,
    "foregroundServiceType": 0x01010599,
    "requestLegacyExternalStorage": 0x01010603,
    "dataExtractionRules": 0x0101063E,
    "usesPermissionFlags": 0x01010644,
}

ATTRIBUTE_NAMES: dict[int, str] = {v: k for k, v in ATTRIBUTE_IDS.items()}
