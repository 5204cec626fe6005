"""A canary suite for note scrubbers: notes with planted PHI of every class, English and
Chinese, and the clinical terms that must come through unchanged.

``canary_notes()`` writes the notes from a seed; ``score()`` measures any scrubber's output on
them: recall per PHI class (a planted value is caught only when none of its fragments
survives) and the share of clinical terms that did not come through verbatim (over-scrubbing).
The tests and ``bench/ehr_notes_deid.py`` use the same notes.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .phi_en import LEXICON_NAMES


@dataclass(frozen=True)
class Planted:
    phi_class: str
    needles: tuple[str, ...]  # fragments of which none may survive


@dataclass(frozen=True)
class CanaryNote:
    language: str  # "en" or "zh"
    text: str
    planted: tuple[Planted, ...]
    clinical: tuple[str, ...]


_SYLLABLES = ("bra", "dor", "vel", "kin", "mar", "tes", "lio", "quen", "zal", "rov", "nis", "tha", "gur", "fen",
              "sil", "wen", "bex", "ock", "ulm", "yar", "pim", "dro", "cav", "hesk")
_ZH_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭林罗郑梁谢宋唐韩冯邓曹彭曾萧田董潘袁蔡蒋余杜叶程魏苏吕丁沈姚"
_ZH_GIVEN = ("芳", "伟", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "超", "秀英",
             "桂英", "建华", "志强", "晓明", "海燕", "丽华", "玉兰", "春梅", "国庆", "文静", "子涵", "浩然", "欣怡")
_ZH_PLACES = ("建国", "人民", "解放", "中山", "和平", "长江", "朝阳", "新华", "光明", "延安", "胜利", "友谊", "青年",
              "花园", "东风", "振兴", "漕溪", "科技", "滨河", "望京")
_ZH_CITIES = (("北京市", "朝阳区"), ("上海市", "徐汇区"), ("广东省深圳市", "南山区"), ("浙江省杭州市", "西湖区"),
              ("四川省成都市", "武侯区"), ("湖北省武汉市", "江汉区"), ("江苏省南京市", "鼓楼区"))
_ZH_REGIONS = ("110105", "310104", "440305", "330106", "510107", "420103", "320106")

# Clinical terms that must survive verbatim (the note features of the risk project among them).
CLINICAL_EN = (
    "Parkinson disease", "Parkinson's disease", "Wilson disease", "Addison disease", "Crohn's disease",
    "Hodgkin lymphoma", "non-Hodgkin lymphoma", "Graves' disease", "Alzheimer's disease", "Cushing syndrome",
    "Hashimoto thyroiditis", "Raynaud phenomenon", "Bell's palsy", "Down syndrome", "Guillain-Barré syndrome",
    "Babinski sign", "Murphy's sign", "Kussmaul respiration", "Charcot foot", "Foley catheter",
    "Kimmelstiel-Wilson nodules", "Turner syndrome", "Huntington disease",
    "platelets 250000", "WBC 11200", "glucose 342 mg/dL", "creatinine 1.4 mg/dL", "HbA1c 9.1 %", "potassium 5.8",
    "LDL 121 mg/dL", "eGFR 48", "sodium 128", "TSH 0.01", "hemoglobin 10.2 g/dL",
    "vitamin D 50000 IU", "insulin glargine 24 units", "metformin 1000 mg", "atorvastatin 40 mg", "aspirin 81 mg",
    "levothyroxine 88 mcg", "semaglutide 0.5 mg",
    "CPT 99214", "CPT 99213", "ICD-10 E11.9", "E11.65", "I10", "Z79.4", "LOINC 4548-4", "HCPCS G0108",
    "SNOMED CT 44054006",
    "CYP2C19*2", "BRCA1", "BRCA2", "HLA-B*57:01", "HLA-B*58:01", "KCNJ11", "HNF1A", "TCF7L2", "EGFR", "SLCO1B1",
    "current smoker", "dilated retinal examination", "ketoacidosis", "BP 134/77 mmHg",
)
CLINICAL_ZH = (
    "帕金森病", "高血压", "2型糖尿病", "白细胞11.2×10^9/L", "血小板250×10^9/L", "二甲双胍0.5g", "糖化血红蛋白9.1%",
    "黄疸", "空腹血糖7.8mmol/L", "甘精胰岛素24单位", "桥本甲状腺炎", "糖尿病肾病", "阿尔茨海默病", "克罗恩病",
    "复诊", "血压134/77mmHg",
)
# Lexicon names for the lexicon class; none that is part of a clinical term ("Kimmelstiel-Wilson").
_LEXICON = tuple(sorted(n for n in LEXICON_NAMES if n.isalpha() and len(n) >= 4
                        and not any(n in term.lower() for term in CLINICAL_EN)))
_CLINICAL_EN_FRAMES = ("History of {}.", "Today {}.", "Noted {} on review.", "Plan reviewed: {}.")
_CLINICAL_ZH_FRAMES = ("既往{}。", "查{}。", "患者{}多年。", "患者于今日{}。", "诊断：{}。")


def _invented_name(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.choice((2, 3)))).capitalize()


def _digits(rng: random.Random, n: int) -> str:
    return "".join(str(rng.randrange(10)) for _ in range(n))


def resident_id(rng: random.Random) -> str:
    """A valid 18-character resident identity number (GB 11643-1999)."""
    birth = dt.date(1930, 1, 1) + dt.timedelta(days=rng.randrange(30000))
    body = rng.choice(_ZH_REGIONS) + birth.strftime("%Y%m%d") + _digits(rng, 3)
    total = sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate(body))
    return body + "10X98765432"[total % 11]


Generator = Callable[[random.Random], tuple[str, tuple[str, ...]]]


def _en_generators() -> dict[str, Generator]:
    def title(rng):
        name = _invented_name(rng)
        form = rng.randrange(5)
        if form == 0:
            return f"dr. {name.lower()} called back about the pump.", (name,)
        t = ("Mr.", "Mrs.", "Ms.", "Nurse", "Dr.", "Prof.")[rng.randrange(6)]
        return f"{t} {name} reviewed the plan.", (name,)

    def relative(rng):
        first, last = _invented_name(rng), _invented_name(rng)
        rel = rng.choice(("daughter", "son", "wife", "husband", "sister", "brother", "neighbor", "caregiver"))
        if rng.random() < 0.5:
            return f"Her {rel} {first} was at the bedside.", (first,)
        return f"Contact: {rel}, {first} {last}, by phone.", (first, last)

    def role(rng):
        first, last = _invented_name(rng), _invented_name(rng)
        frame = rng.choice(("Seen by {} {}.", "Discussed with {} {} from pharmacy.", "-- {} {}, RN",
                            "Signed by {} {}, MD", "Spoke with {} {} today."))
        return frame.format(first, last), (first, last)

    def lexicon(rng):
        name = rng.choice(_LEXICON).capitalize()
        return f"The glucose log was brought in by {name} this morning.", (name,)

    def date_no_year(rng):
        d = dt.date(2001, 1, 1) + dt.timedelta(days=rng.randrange(365))
        spelled = rng.choice((d.strftime("%B") + f" {d.day}th", f"{d.day} " + d.strftime("%b"),
                              d.strftime("%b") + f" {d.day}", f"{d.day}th of " + d.strftime("%B")))
        return f"Next review {spelled}.", (spelled,)

    def date_full(rng):
        d = dt.date(2012, 1, 1) + dt.timedelta(days=rng.randrange(3000))
        spelled = rng.choice((d.strftime("%B ") + f"{d.day}, {d.year}", d.isoformat(), d.strftime("%m/%d/%Y"),
                              d.strftime("%d-%b-%Y")))
        return f"Admitted on {spelled}.", (spelled,)

    def age(rng):
        n = rng.randrange(90, 106)
        words = {90: "ninety", 91: "ninety-one", 92: "ninety-two", 93: "ninety-three", 94: "ninety-four",
                 95: "ninety-five", 96: "ninety-six", 97: "ninety-seven", 98: "ninety-eight", 99: "ninety-nine"}
        spelled = rng.choice((f"{words.get(n, 'one hundred')} year old", f"aged {words.get(n, 'one hundred')}",
                              f"{n}-year-old", f"{n} y/o", f"age {n}", f"{n} years of age"))
        return f"A {spelled} patient.", (spelled,)

    def record(rng):
        label = rng.choice(("MRN: ", "MRN ", "record #", "account no. ", "Acct# ", "medical record number ",
                            "chart no. ", "patient ID "))
        value = f"{label}{_digits(rng, rng.randrange(3, 10)).lstrip('0') or '7'}"
        return f"Chart {value} reviewed.", (value,)

    def phone_international(rng):
        value = rng.choice((f"+44 20 7946 {_digits(rng, 4)}", f"+49 30 {_digits(rng, 7)}",
                            f"+86 139 {_digits(rng, 4)} {_digits(rng, 4)}", f"+33 1 {_digits(rng, 2)} {_digits(rng, 2)} "
                            f"{_digits(rng, 2)} {_digits(rng, 2)}", f"0044 20 {_digits(rng, 4)} {_digits(rng, 4)}",
                            f"+61 2 {_digits(rng, 4)} {_digits(rng, 4)}"))
        return f"Family abroad: {value}.", (value,)

    def phone_seven(rng):
        value = rng.choice((f"555-{_digits(rng, 4)}", f"{rng.randrange(200, 999)}-{_digits(rng, 4)}"))
        form = rng.randrange(2)
        if form == 0:
            return f"Call back at {value} after 5 pm.", (value,)
        bare = value.replace("-", "")
        return f"Mobile {bare} (voicemail).", (bare,)

    def phone_us(rng):
        value = f"({rng.randrange(201, 989)}) 555-{_digits(rng, 4)}"
        return f"Home phone {value}.", (value,)

    def email_spelled(rng):
        first, last = _invented_name(rng).lower(), _invented_name(rng).lower()
        form = rng.randrange(4)
        if form == 1:
            return f"Prefers e-mail: {first}{last} (at) yahoo (dot) com.", (first + last,)
        value = (f"{first} dot {last} at gmail dot com", "", f"{first}.{last} at outlook dot com",
                 f"{first} [at] {last} [dot] net")[form]
        return f"Prefers e-mail: {value}.", (first, last)

    def email(rng):
        first = _invented_name(rng).lower()
        return f"Mail {first}@example.net for results.", (first,)

    def url_no_scheme(rng):
        site = _invented_name(rng).lower()
        form = rng.randrange(4)
        value = (f"www.{site}.org", f"{site}.com/portal/{_digits(rng, 4)}", f"portal.{site}health.org", f"{site}.net")[form]
        return f"Uploads readings to {value} weekly.", (site + "health" if form == 2 else site,)

    def url(rng):
        site = _invented_name(rng).lower()
        return f"See https://{site}.example.org/chart for details.", (site,)

    def plate(rng):
        letters = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(3))
        value = rng.choice((f"{rng.randrange(1, 9)}{letters}{_digits(rng, 3)}", f"{letters} {_digits(rng, 4)}",
                            f"{letters}-{_digits(rng, 3)}"))
        label = rng.choice(("licence plate", "license plate no.", "vehicle plate", "plate"))
        return f"Parking validated for {label} {value}.", (value,)

    def serial(rng):
        letters = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(2))
        value = rng.choice((f"SN-{_digits(rng, 5)}", f"{_digits(rng, 4)}-{letters}{_digits(rng, 2)}",
                            f"{_digits(rng, 15)}", f"{rng.randrange(1, 9)}{letters}{_digits(rng, 2)}{letters}{_digits(rng, 2)}"))
        label = rng.choice(("serial no.", "S/N", "IMEI", "device serial", "pump serial number"))
        return f"Device {label} {value} registered.", (value,)

    def ssn(rng):
        value = f"{rng.randrange(100, 899)}-{_digits(rng, 2)}-{_digits(rng, 4)}"
        return f"SSN {value} on file.", (value,)

    def address(rng):
        street = _invented_name(rng)
        number = str(rng.randrange(10, 9999))
        kind = rng.choice(("Street", "Road", "Avenue", "Lane", "Drive"))
        return f"Lives at {number} {street} {kind}.", (f"{number} {street}", street)

    def ip(rng):
        value = f"203.0.113.{rng.randrange(1, 255)}"
        return f"Portal login from {value}.", (value,)

    return {
        "en.name_title": title, "en.name_relative": relative, "en.name_role": role, "en.name_lexicon": lexicon,
        "en.date_no_year": date_no_year, "en.date": date_full, "en.age_over_89": age, "en.record_number": record,
        "en.phone_international": phone_international, "en.phone_7_digit": phone_seven, "en.phone_us": phone_us,
        "en.email_spelled": email_spelled, "en.email": email, "en.url_no_scheme": url_no_scheme, "en.url": url,
        "en.plate": plate, "en.serial": serial, "en.ssn": ssn, "en.address": address, "en.ip": ip,
    }


def _zh_generators() -> dict[str, Generator]:
    def name(rng):
        surname = rng.choice(_ZH_SURNAMES)
        full = surname + rng.choice(_ZH_GIVEN)
        frame = rng.choice(("患者{}因头痛入院", "患者{}，女，", "家属{}陪同就诊", "护士{}测量血压", "主治医师{}查房",
                            "联系人：{}，", "{}女士诉乏力", "由{}先生签字"))
        return frame.format(full) + "。", (full,)

    def doctor(rng):
        surname = rng.choice(_ZH_SURNAMES)
        return f"{surname}医生建议复查。", (f"{surname}医生",)

    def mobile(rng):
        value = rng.choice((f"1{rng.choice('3456789')}{_digits(rng, 9)}", f"139-{_digits(rng, 4)}-{_digits(rng, 4)}",
                            f"+86 13{_digits(rng, 9)}"))
        return f"联系电话{value}。", (value,)

    def landline(rng):
        value = rng.choice((f"010-{_digits(rng, 8)}", f"0755-{_digits(rng, 7)}", f"(021){_digits(rng, 8)}",
                            f"020-{_digits(rng, 8)}"))
        return f"家庭电话：{value}。", (value,)

    def resident(rng):
        value = resident_id(rng)
        return rng.choice((f"身份证号{value}。", f"证件：{value}。")), (value,)

    def date(rng):
        d = dt.date(2012, 1, 1) + dt.timedelta(days=rng.randrange(3000))
        value = rng.choice((f"{d.year}年{d.month}月{d.day}日", f"{d.year}年{d.month}月", f"{d.month}月{d.day}日"))
        return f"于{value}就诊。", (value,)

    def address(rng):
        province, district = rng.choice(_ZH_CITIES)
        road = rng.choice(_ZH_PLACES)
        n = rng.randrange(1, 300)
        value = rng.choice((f"{province}{district}{road}路{n}号", f"{road}路{n}号",
                            f"{province}{district}{road}街{n}号{rng.randrange(1, 20)}栋{rng.randrange(1, 6)}单元"
                            f"{rng.randrange(101, 2000)}室", f"{road}大道{n}弄{rng.randrange(1, 50)}号"))
        return f"家住{value}。", (value, f"{road}路{n}号") if "路" in value else (value,)

    def hospital(rng):
        province, _ = rng.choice(_ZH_CITIES)
        place = rng.choice(_ZH_PLACES)
        value = rng.choice((f"{province}人民医院", f"{place}医院", f"{place}镇卫生院", f"{place}诊所",
                            f"{province}第一人民医院"))
        return f"曾在{value}治疗。", (value,)

    def record(rng):
        label = rng.choice(("病历号：", "住院号 ", "门诊号:", "病案号"))
        value = rng.choice((_digits(rng, rng.randrange(5, 10)), "A" + _digits(rng, 8)))
        return f"{label}{value}。", (value,)

    def age(rng):
        n = rng.randrange(90, 106)
        value = rng.choice((f"{n}岁", "九十二岁", "九十五岁"))
        return f"患者，男，{value}。", (value,)

    def plate(rng):
        value = rng.choice("京沪粤浙川") + rng.choice("ABCDE") + _digits(rng, 5)
        return f"车牌号{value}。", (value,)

    return {
        "zh.name": name, "zh.name_title": doctor, "zh.mobile": mobile, "zh.landline": landline,
        "zh.resident_id": resident, "zh.date": date, "zh.address": address, "zh.hospital": hospital,
        "zh.record_number": record, "zh.age_over_89": age, "zh.plate": plate,
    }


GENERATORS = {**_en_generators(), **_zh_generators()}
REQUIRED_CLASSES = tuple(GENERATORS)


def canary_notes(n_notes: int = 400, *, seed: int = 0, phi_per_note: int = 6, clinical_per_note: int = 4) -> list[CanaryNote]:
    """``n_notes`` notes, half English and half Chinese; every class is planted in turn, so each
    appears about equally often."""
    rng = random.Random(seed)
    classes = {"en": [c for c in REQUIRED_CLASSES if c.startswith("en.")],
               "zh": [c for c in REQUIRED_CLASSES if c.startswith("zh.")]}
    turn = {"en": 0, "zh": 0}
    notes = []
    for k in range(n_notes):
        language = "en" if k % 2 == 0 else "zh"
        parts: list[str] = []
        planted: list[Planted] = []
        for _ in range(phi_per_note):
            phi_class = classes[language][turn[language] % len(classes[language])]
            turn[language] += 1
            text, needles = GENERATORS[phi_class](rng)
            parts.append(text)
            planted.append(Planted(phi_class, needles))
        pool, frames = (CLINICAL_EN, _CLINICAL_EN_FRAMES) if language == "en" else (CLINICAL_ZH, _CLINICAL_ZH_FRAMES)
        clinical = tuple(rng.sample(pool, clinical_per_note))
        parts += [rng.choice(frames).format(term) for term in clinical]
        rng.shuffle(parts)
        notes.append(CanaryNote(language, (" " if language == "en" else "").join(parts), tuple(planted), clinical))
    return notes


_CJK = re.compile(r"[\u3400-\u9fff]")


def survives(needle: str, text: str) -> bool:
    """``needle`` is still readable in ``text``: Chinese as a substring; numbers (5 digits or more,
    no letters) as their digits with any punctuation between; anything else as a whole word in
    any case."""
    if _CJK.search(needle):
        return needle in text
    digits = re.sub(r"\D", "", needle)
    if len(digits) >= 5 and not re.search(r"[A-Za-z]", needle):
        pattern = r"(?<!\d)" + r"[\s.\-()/+]*".join(digits) + r"(?!\d)"
        return re.search(pattern, text) is not None
    pattern = r"(?<![A-Za-z0-9])" + re.escape(needle) + r"(?![A-Za-z0-9+])"  # "age 90+" is the cap, not a leak
    return re.search(pattern, text, re.IGNORECASE) is not None


@dataclass(frozen=True)
class ClassScore:
    planted: int
    caught: int

    @property
    def recall(self) -> float:
        return self.caught / self.planted if self.planted else 1.0


@dataclass(frozen=True)
class CanaryScore:
    per_class: dict[str, ClassScore]
    clinical_planted: int
    clinical_destroyed: int
    missed: tuple[tuple[str, str], ...] = field(default=())  # (class, needle), for reading failures
    destroyed: tuple[str, ...] = field(default=())

    @property
    def recall(self) -> float:
        planted = sum(s.planted for s in self.per_class.values())
        return sum(s.caught for s in self.per_class.values()) / planted if planted else 1.0

    @property
    def over_scrub_rate(self) -> float:
        return self.clinical_destroyed / self.clinical_planted if self.clinical_planted else 0.0


def score(notes: Sequence[CanaryNote], scrubbed: Sequence[str]) -> CanaryScore:
    """Recall per PHI class and clinical terms destroyed, for ``scrubbed[i]`` made from ``notes[i]``."""
    planted: dict[str, int] = defaultdict(int)
    caught: dict[str, int] = defaultdict(int)
    missed: list[tuple[str, str]] = []
    destroyed: list[str] = []
    n_clinical = 0
    for note, out in zip(notes, scrubbed, strict=True):
        for p in note.planted:
            planted[p.phi_class] += 1
            left = [n for n in p.needles if survives(n, out)]
            if left:
                missed.extend((p.phi_class, n) for n in left)
            else:
                caught[p.phi_class] += 1
        for term in note.clinical:
            n_clinical += 1
            if term not in out:
                destroyed.append(term)
    return CanaryScore(
        per_class={c: ClassScore(planted[c], caught[c]) for c in sorted(planted)},
        clinical_planted=n_clinical,
        clinical_destroyed=len(destroyed),
        missed=tuple(missed),
        destroyed=tuple(destroyed),
    )


__all__ = ["REQUIRED_CLASSES", "CanaryNote", "CanaryScore", "ClassScore", "Planted", "canary_notes", "resident_id",
           "score", "survives"]
