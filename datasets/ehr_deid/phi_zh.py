"""Chinese PHI in notes: names, telephone numbers, resident identity numbers, addresses,
hospitals, record numbers and ages over 89.

Names are recognised by context only (after 患者, 家属, 护士, 姓名 ..., before 先生, 医生,
女士 ..., or before the sex in "王芳，女，45岁"), as a common surname followed by one or two given-name characters; a character that
starts ordinary clinical text (于, 今, 高血压's 血, ...) is never taken as a given name.
"""

from __future__ import annotations

import re

from .lexicons import (
    CHINESE_COMPOUND_SURNAMES,
    CHINESE_NAME_CONTEXT,
    CHINESE_NAME_SUFFIX,
    CHINESE_NOT_GIVEN_NAME,
    CHINESE_SURNAMES,
)

_HAN = "\u4e00-\u9fff"
_HAN_CHAR = re.compile(f"[{_HAN}]")
_ID_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_ID_CHECK = "10X98765432"

RESIDENT_ID = re.compile(
    r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[0-9Xx](?![0-9A-Za-z])"
)
MOBILE = re.compile(r"(?<![\d+])(?:(?:\+|00)86[\s-]?)?1[3-9]\d(?:[\s-]?\d{4}){2}(?!\d)")
LANDLINE = re.compile(r"(?<![\d+])(?:\(0\d{2,3}\)|（0\d{2,3}）|0\d{2,3})[\s-]?\d{7,8}(?:(?:转|-|ext\.?)\d{1,5})?(?!\d)")
RECORD_NUMBER = re.compile(
    r"(?<![A-Za-z])(病历号|住院号|门诊号|病案号|就诊号|就诊卡号|医保卡号|医保号|社保卡号|身份证号码|身份证号|身份证|床号|登记号|检查号|"
    r"申请单号|条码号|档案号|卡号|编号|ID号|ID)(\s*[:：]?\s*)([A-Za-z0-9][A-Za-z0-9-]*)"
)
_SURNAME = "(?:" + "|".join(CHINESE_COMPOUND_SURNAMES) + "|[" + "".join(sorted(CHINESE_SURNAMES)) + "])"
NAME_AFTER_CONTEXT = re.compile(
    "(" + "|".join(sorted(CHINESE_NAME_CONTEXT, key=len, reverse=True)) + rf")([:：]?\s*)({_SURNAME})([{_HAN}]{{1,2}})"
)
NAME_BEFORE_TITLE = re.compile(
    rf"({_SURNAME})([{_HAN}]{{0,2}}?)(" + "|".join(sorted(CHINESE_NAME_SUFFIX, key=len, reverse=True)) + ")"
)
NAME_BEFORE_SEX = re.compile(rf"({_SURNAME})([{_HAN}]{{1,2}})(?=\s*[，,、(（]\s*[男女])")
# Characters that may not open a place or hospital name: they are the words before one ("住在", "转至", "于").
_FUNCTION = "在于至到去赴来自从往住居现位经转就诊入出因由与及的了是为并曾已诉请送患"
_PLACE_CHAR = rf"(?:(?![{_FUNCTION}])[{_HAN}])"
_ADMIN = rf"(?:{_PLACE_CHAR}{{2,7}}?(?:省|自治区|特别行政区|市|自治州|地区|盟|区|县|旗|镇|乡|街道))"
_NUM = r"(?:\d+|[一二三四五六七八九十百零〇]+)"
_REST = rf"(?:-?{_NUM}(?:号楼|号院|栋|幢|座|单元|层|楼|室|号|弄|组))*"
ADDRESS = re.compile(
    rf"{_ADMIN}*(?:{_PLACE_CHAR}{{1,10}}?(?:路|街|大街|大道|巷|胡同){_NUM}(?:号|弄){_REST}"
    rf"|{_PLACE_CHAR}{{1,8}}?(?:村|小区|花园|公寓|大厦|家园|新村|苑){_REST})"
    rf"|{_ADMIN}+{_PLACE_CHAR}{{1,10}}?(?:路|大街|大道|巷|胡同)"
    rf"|{_ADMIN}{{2,}}"
)
_GENERIC_HOSPITAL = ("上级", "当地", "本地", "外", "我", "本", "该", "其他", "附近", "基层", "社区", "专科", "综合", "二级",
                     "三级", "三甲", "定点", "各级", "私立", "公立")
HOSPITAL = re.compile(
    rf"({_PLACE_CHAR}{{2,15}}?)(医科大学附属医院|附属医院|医院|卫生院|诊所|卫生服务中心|卫生服务站|医疗中心|保健院|门诊部|卫生室)"
)
AGE = re.compile(r"(?<!\d)(?:9\d|1[01]\d)(?=\s*(?:周岁|岁))|(?<=年龄)([:：]?\s*)(?:9\d|1[01]\d)(?!\d)")
AGE_HAN = re.compile(r"(?:九十[一二三四五六七八九]?|一百(?:零?[一二三四五六七八九]|一十?[一二三四五六七八九]?)?)(?=\s*(?:周岁|岁))")
PLATE = re.compile(
    r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-Z][·\s]?[A-Z0-9]{5,6}(?![A-Z0-9])"
)


def valid_resident_id(value: str) -> bool:
    """The 18th character is the ISO 7064 MOD 11-2 check of the first 17 (GB 11643-1999)."""
    if len(value) != 18 or not value[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == value[17].upper()


def _given_name(chars: str) -> str:
    """The given-name part of ``chars`` (one or two characters), or "" when it starts ordinary text."""
    if not chars or chars[0] in CHINESE_NOT_GIVEN_NAME:
        return ""
    return chars if len(chars) == 2 and chars[1] not in CHINESE_NOT_GIVEN_NAME else chars[0]


def _after_context(m: re.Match[str]) -> str:
    given = _given_name(m.group(4))
    if not given:
        return m.group(0)
    return f"{m.group(1)}{m.group(2)}[NAME]{m.group(4)[len(given):]}"


def _before_title(m: re.Match[str]) -> str:
    given = m.group(2)
    if given and (given[0] in CHINESE_NOT_GIVEN_NAME or given[-1] in CHINESE_NOT_GIVEN_NAME):
        return m.group(0)
    return f"[NAME]{m.group(3)}"


def _before_sex(m: re.Match[str]) -> str:
    given = m.group(2)
    if given[0] in CHINESE_NOT_GIVEN_NAME or given[-1] in CHINESE_NOT_GIVEN_NAME:
        return m.group(0)
    return "[NAME]"


def _hospital(m: re.Match[str]) -> str:
    return m.group(0) if m.group(1) in _GENERIC_HOSPITAL or m.group(1).endswith("我") else "[HOSPITAL]"


def scrub_chinese_numbers(text: str) -> str:
    """Resident identity numbers (checked), mobile and landline numbers, labelled record numbers, plates."""
    t = RESIDENT_ID.sub(lambda m: "[ID]" if valid_resident_id(m.group(0)) else m.group(0), text)
    t = MOBILE.sub("[PHONE]", t)
    t = LANDLINE.sub("[PHONE]", t)
    t = RECORD_NUMBER.sub(lambda m: f"{m.group(1)}{m.group(2)}[ID]" if any(c.isdigit() for c in m.group(3))
                          else m.group(0), t)
    return PLATE.sub("[ID]", t)


def scrub_chinese_text(text: str) -> str:
    """Names by context, addresses, hospitals and ages over 89."""
    if not _HAN_CHAR.search(text):
        return text
    t = NAME_AFTER_CONTEXT.sub(_after_context, text)
    t = NAME_BEFORE_TITLE.sub(_before_title, t)
    t = NAME_BEFORE_SEX.sub(_before_sex, t)
    t = HOSPITAL.sub(_hospital, t)
    t = ADDRESS.sub("[ADDRESS]", t)
    t = AGE.sub(lambda m: f"{m.group(1)}90+" if m.group(1) is not None else "90+", t)
    return AGE_HAN.sub("90+", t)


__all__ = ["scrub_chinese_numbers", "scrub_chinese_text", "valid_resident_id"]
