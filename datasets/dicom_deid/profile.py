"""DICOM PS3.15 Annex E, Table E.1-1: the Application Level Confidentiality Profile Attributes.

Transcribed from the 2026d edition of the table (:data:`EDITION`; one line per attribute,
in the table's alphabetical order): tag, Basic Profile action, the action of each option
that changes it, and the attribute name. Retired-status and "in standard composite IOD"
columns are not needed here and are left out. The 2026d rows were cross-checked against
the 2024b edition; the editions since 2021 added every remaining date and time, the AE
titles (Station, Retrieve, Receiving, Requesting, Destination), the issuers of the
clinical-trial identifiers, Other Clinical Trial Protocol IDs Sequence, Treatment Sites,
Encapsulated Document, Certificate of Signer, Certified Timestamp, the ROI Creator and
ROI Interpreter Sequences, the gender-identity, pronoun, name-to-use and sex-parameters
attributes, the diagnosis code sequences and others.

Action codes (PS3.15 E.1.1):

    D   replace with a non-zero length value that may be a dummy value, consistent with the VR
    Z   replace with a zero length value, or a non-zero length dummy value consistent with the VR
    X   remove
    K   keep (unchanged for non-sequence attributes, cleaned for sequences)
    C   clean: replace with values of similar meaning known not to contain identifying information
    U   replace with a non-zero length UID that is internally consistent within a set of instances
    Z/D, X/Z, X/D, X/Z/D, X/Z/U*   composites; see :mod:`.actions` for how each resolves

Option columns (PS3.15 E.3), written ``<letter>=<action>`` after the Basic Profile action:

    P  Retain Safe Private Option               F  Retain Longitudinal Temporal Information Full Dates Option
    U  Retain UIDs Option                       M  Retain Longitudinal Temporal Information Modified Dates Option
    D  Retain Device Identity Option            S  Clean Descriptors Option
    I  Retain Institution Identity Option       T  Clean Structured Content Option
    C  Retain Patient Characteristics Option    G  Clean Graphics Option

:data:`EXTRA_RULES` adds a few attributes outside the table (issuer sequences and the
like) that name the institution of an identifier; they are kept apart from the
transcription. Everything else outside the table is removed unless :mod:`.keep` lists it.

Three rows are patterns rather than single tags: private attributes (odd groups), Curve
Data (50xx,xxxx) and the overlay rows (60xx,3000) and (60xx,4000).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

EDITION = "2026d"
TABLE_NAME = f"PS3.15 {EDITION} Table E.1-1"

# fmt: off
TABLE_E1_1 = """
(0008,0050) Z Accession Number
(0018,4000) X S=C Acquisition Comments
(0040,0556) X S=C Acquisition Context Description
(0040,0555) X/Z T=C Acquisition Context Sequence
(0008,0022) X/Z F=K M=C Acquisition Date
(0008,002A) X/Z/D F=K M=C Acquisition DateTime
(0018,1400) X/D S=C Acquisition Device Processing Description
(0018,11BB) D S=C Acquisition Field Of View Label
(0018,9424) X S=C Acquisition Protocol Description
(0008,0032) X/Z F=K M=C Acquisition Time
(0008,0017) U U=K Acquisition UID
(0040,4035) X Actual Human Performers Sequence
(0010,21B0) X S=C Additional Patient History
(0040,A353) X Address (Trial)
(0038,0010) X Admission ID
(0038,0020) X F=K M=C Admitting Date
(0008,1084) X S=C Admitting Diagnoses Code Sequence
(0008,1080) X S=C Admitting Diagnoses Description
(0038,0021) X F=K M=C Admitting Time
(0000,1000) X U=K Affected SOP Instance UID
(0010,2110) X C=C S=C Allergies
(0040,B034) X F=K M=C Annotation DateTime
(006A,0006) X S=C Annotation Group Description
(006A,0005) D S=C Annotation Group Label
(006A,0003) D U=K Annotation Group UID
(0044,0004) X F=K M=C Approval Status DateTime
(4000,0010) X Arbitrary
(0044,0104) D F=K M=C Assertion DateTime
(0044,0105) X F=K M=C Assertion Expiration DateTime
(0400,0562) D F=K M=C Attribute Modification DateTime
(0040,A078) X Author Observer Sequence
(2200,0005) X/Z Barcode Value
(300A,00C3) X S=C Beam Description
(300C,0127) D D=K F=K M=C Beam Hold Transition DateTime
(300A,00DD) X S=C Bolus Description
(0010,1081) X Branch of Service
(0014,407E) X D=K F=K M=C Calibration Date
(0018,1203) Z D=K F=K M=C Calibration DateTime
(0014,407C) X D=K F=K M=C Calibration Time
(0016,004D) X Camera Owner Name
(0018,1007) X D=K Cassette ID
(0400,0115) D Certificate of Signer
(0400,0310) X F=K M=C Certified Timestamp
(003A,020C) X S=C Channel Derivation Description
(003A,0203) X S=C Channel Label
(0012,0060) Z I=K Clinical Trial Coordinating Center Name
(0012,0082) X Clinical Trial Protocol Ethics Committee Approval Number
(0012,0081) D I=K Clinical Trial Protocol Ethics Committee Name
(0012,0020) D Clinical Trial Protocol ID
(0012,0021) Z Clinical Trial Protocol Name
(0012,0072) X S=C Clinical Trial Series Description
(0012,0071) X Clinical Trial Series ID
(0012,0030) Z I=K Clinical Trial Site ID
(0012,0031) Z I=K Clinical Trial Site Name
(0012,0010) D Clinical Trial Sponsor Name
(0012,0040) D Clinical Trial Subject ID
(0012,0042) D Clinical Trial Subject Reading ID
(0012,0051) X S=C Clinical Trial Time Point Description
(0012,0050) Z Clinical Trial Time Point ID
(0040,0310) X S=C Comments on Radiation Dose
(0040,0280) X S=C Comments on the Performed Procedure Step
(300A,02EB) X S=C Compensator Description
(0020,9161) U U=K Concatenation UID
(3010,000F) Z S=C Conceptual Volume Combination Description
(3010,0017) Z S=C Conceptual Volume Description
(3010,0006) U U=K Conceptual Volume UID
(0040,3001) X Confidentiality Constraint on Patient Data Description
(3010,0013) U U=K Constituent Conceptual Volume UID
(0008,009D) X Consulting Physician Identification Sequence
(0008,009C) Z Consulting Physician's Name
(0050,001B) X Container Component ID
(0040,051A) X S=C Container Description
(0040,0512) D Container Identifier
(0070,0086) X Content Creator's Identification Code Sequence
(0070,0084) Z/D Content Creator's Name
(0008,0023) Z/D F=K M=C Content Date
(0040,A730) D T=C Content Sequence
(0008,0033) Z/D F=K M=C Content Time
(0008,0107) D F=K M=C Context Group Local Version
(0008,0106) D F=K M=C Context Group Version
(0018,0010) Z/D S=C Contrast/Bolus Agent
(0018,1042) X F=K M=C Contrast/Bolus Start Time
(0018,1043) X F=K M=C Contrast/Bolus Stop Time
(0018,A002) X F=K M=C Contribution DateTime
(0018,A003) X S=C Contribution Description
(0010,2150) X Country of Residence
(2100,0040) X F=K M=C Creation Date
(2100,0050) X F=K M=C Creation Time
(0040,A307) X Current Observer (Trial)
(0038,0300) X Current Patient Location
(50xx,xxxx) X G=C Curve Data
(0008,0025) X F=K M=C Curve Date
(0008,0035) X F=K M=C Curve Time
(0040,A07C) X Custodial Organization Sequence
(FFFC,FFFC) X Data Set Trailing Padding
(0040,A121) D F=K M=C Date
(0040,A110) X F=K M=C Date of Document or Verbal Transaction (Trial)
(0018,1205) X D=K F=K M=C Date of Installation
(0018,1200) X D=K F=K M=C Date of Last Calibration
(0018,700C) X/D D=K F=K M=C Date of Last Detector Calibration
(0018,1204) X D=K F=K M=C Date of Manufacture
(0018,1012) X F=K M=C Date of Secondary Capture
(0040,A120) D F=K M=C DateTime
(0018,1202) X D=K F=K M=C DateTime of Last Calibration
(0018,9701) D F=K M=C Decay Correction DateTime
(0018,937F) X S=C Decomposition Description
(0008,2111) X S=C Derivation Description
(2100,0140) D D=C Destination AE
(0018,700A) X/D D=K Detector ID
(3010,001B) Z Device Alternate Identifier
(0050,0020) X D=K Device Description
(3010,002D) D D=K Device Label
(0018,1000) X/Z/D D=K Device Serial Number
(0016,004B) X S=C Device Setting Description
(0018,1002) U U=K D=K Device UID
(0400,0105) D F=K M=C Digital Signature DateTime
(0400,0100) U Digital Signature UID
(FFFA,FFFA) X Digital Signatures Sequence
(0020,9164) U U=K Dimension Organization UID
(0038,0030) X F=K M=C Discharge Date
(0038,0040) X S=C Discharge Diagnosis Description
(0038,0032) X F=K M=C Discharge Time
(300A,079A) X S=C Displacement Reference Label
(0040,E012) X Display URI
(4008,011A) X Distribution Address
(4008,0119) X Distribution Name
(3004,007F) X S=C Dose Calculation Model Name
(300A,0016) X S=C Dose Reference Description
(300A,0013) U U=K Dose Reference UID
(3010,006E) U U=K Dosimetric Objective UID
(0068,6226) D F=K M=C Effective DateTime
(0040,A034) X F=K M=C Effective Start DateTime
(0040,A035) X F=K M=C Effective Stop DateTime
(0042,0011) D Encapsulated Document
(0018,9517) X/D F=K M=C End Acquisition DateTime
(3010,0037) X S=C Entity Description
(3010,0035) D S=C Entity Label
(3010,0038) D S=C Entity Long Label
(3010,0036) X S=C Entity Name
(300A,0676) X S=C Equipment Frame of Reference Description
(0012,0087) X F=K M=C Ethics Committee Approval Effectiveness End Date
(0012,0086) X F=K M=C Ethics Committee Approval Effectiveness Start Date
(0010,2160) X C=K Ethnic Group
(0010,2161) X C=K Ethnic Group Code Sequence
(0010,2162) X C=K Ethnic Groups
(0018,9804) D F=K M=C Exclusion Start DateTime
(0040,4011) X F=K M=C Expected Completion DateTime
(0008,0058) U U=K Failed SOP Instance UID List
(0070,031A) U U=K Fiducial UID
(0040,2017) Z Filler Order Number / Imaging Service Request
(003A,032B) X S=C Filter Lookup Table Description
(0040,A023) X F=K M=C Findings Group Recording Date (Trial)
(0040,A024) X F=K M=C Findings Group Recording Time (Trial)
(3008,0054) X/D F=K M=C First Treatment Date
(300A,0196) X S=C Fixation Device Description
(0034,0002) D Flow Identifier
(0034,0001) D Flow Identifier Sequence
(300A,0072) X S=C Fraction Group Description
(3010,007F) Z S=C Fractionation Notes
(0018,9074) D F=K M=C Frame Acquisition DateTime
(0020,9158) X S=C Frame Comments
(0020,0052) U U=K Frame of Reference UID
(0034,0007) D F=K M=C Frame Origin Timestamp
(0018,9151) D F=K M=C Frame Reference DateTime
(0018,9623) D F=K M=C Functional Sync Pulse
(0018,1008) X D=K Gantry ID
(0010,0044) X Gender Identity Code Sequence
(0010,0045) X S=C Gender Identity Comment
(0010,0041) X Gender Identity Sequence
(0018,1005) X D=K Generator ID
(0016,0076) X GPS Altitude
(0016,0075) X GPS Altitude Ref
(0016,008C) X GPS Area Information
(0016,008D) X F=K M=C GPS Date Stamp
(0016,0088) X GPS Dest Bearing
(0016,0087) X GPS Dest Bearing Ref
(0016,008A) X GPS Dest Distance
(0016,0089) X GPS Dest Distance Ref
(0016,0084) X GPS Dest Latitude
(0016,0083) X GPS Dest Latitude Ref
(0016,0086) X GPS Dest Longitude
(0016,0085) X GPS Dest Longitude Ref
(0016,008E) X GPS Differential
(0016,007B) X GPS DOP
(0016,0081) X GPS Img Direction
(0016,0080) X GPS Img Direction Ref
(0016,0072) X GPS Latitude
(0016,0071) X GPS Latitude Ref
(0016,0074) X GPS Longitude
(0016,0073) X GPS Longitude Ref
(0016,0082) X GPS Map Datum
(0016,007A) X GPS Measure Mode
(0016,008B) X GPS Processing Method
(0016,0078) X GPS Satellites
(0016,007D) X GPS Speed
(0016,007C) X GPS Speed Ref
(0016,0079) X GPS Status
(0016,0077) X GPS Time Stamp
(0016,007F) X GPS Track
(0016,007E) X GPS Track Ref
(0016,0070) X GPS Version ID
(0070,0001) D G=C Graphic Annotation Sequence
(0072,000A) D F=K M=C Hanging Protocol Creation DateTime
(0018,1011) X D=K Hardcopy Creation Device ID
(0008,1304) X S=C Histological Diagnoses Code Sequence
(0040,E004) X F=K M=C HL7 Document Effective Time
(0040,4037) X Human Performer's Name
(0040,4036) X Human Performer's Organization
(0088,0200) X Icon Image Sequence
(0008,4000) X S=C Identifying Comments
(0020,4000) X S=C Image Comments
(0028,4000) X Image Presentation Comments
(0040,2400) X S=C Imaging Service Request Comments
(003A,0314) D F=K M=C Impedance Measurement DateTime
(4008,0300) X S=C Impressions
(0068,6270) D F=K M=C Information Issue DateTime
(0008,0015) X F=K M=C Instance Coercion DateTime
(0008,0012) X/D F=K M=C Instance Creation Date
(0008,0013) X/Z/D F=K M=C Instance Creation Time
(0008,0014) U U=K Instance Creator UID
(0400,0600) X Instance Origin Status
(0008,0081) X I=K Institution Address
(0008,0082) X/Z/D I=K Institution Code Sequence
(0008,0080) X/Z/D I=K Institution Name
(0008,1040) X I=K Institutional Department Name
(0008,1041) X I=K Institutional Department Type Code Sequence
(0018,9919) Z/D F=K M=C Instruction Performed DateTime
(0010,1050) X Insurance Plan Identification
(3010,0085) X F=K M=C Intended Fraction Start Time
(3010,004D) X/D F=K M=C Intended Phase End Date
(3010,004C) X/D F=K M=C Intended Phase Start Date
(0040,1011) X Intended Recipients of Results Identification Sequence
(300A,0741) D F=K M=C Interlock DateTime
(300A,0742) D S=C Interlock Description
(300A,0783) D S=C Interlock Origin Description
(4008,0112) X F=K M=C Interpretation Approval Date
(4008,0113) X F=K M=C Interpretation Approval Time
(4008,0111) X Interpretation Approver Sequence
(4008,010C) X Interpretation Author
(4008,0115) X S=C Interpretation Diagnosis Description
(4008,0200) X Interpretation ID
(4008,0202) X Interpretation ID Issuer
(4008,0100) X F=K M=C Interpretation Recorded Date
(4008,0101) X F=K M=C Interpretation Recorded Time
(4008,0102) X Interpretation Recorder
(4008,010B) X S=C Interpretation Text
(4008,010A) X Interpretation Transcriber
(4008,0108) X F=K M=C Interpretation Transcription Date
(4008,0109) X F=K M=C Interpretation Transcription Time
(0018,0035) X F=K M=C Intervention Drug Start Time
(0018,0027) X F=K M=C Intervention Drug Stop Time
(0008,3010) U U=K Irradiation Event UID
(0040,2004) X F=K M=C Issue Date of Imaging Service Request
(0040,2005) X F=K M=C Issue Time of Imaging Service Request
(0038,0011) X Issuer of Admission ID
(0038,0014) X Issuer of Admission ID Sequence
(0012,0022) X Issuer of Clinical Trial Protocol ID
(0012,0073) X Issuer of Clinical Trial Series ID
(0012,0032) X Issuer of Clinical Trial Site ID
(0012,0041) X Issuer of Clinical Trial Subject ID
(0012,0043) X Issuer of Clinical Trial Subject Reading ID
(0012,0055) X Issuer of Clinical Trial Time Point ID
(0010,0021) X Issuer of Patient ID
(0038,0061) X Issuer of Service Episode ID
(0038,0064) X Issuer of Service Episode ID Sequence
(0040,0513) Z Issuer of the Container Identifier Sequence
(0040,0562) Z Issuer of the Specimen Identifier Sequence
(2200,0002) X/Z S=C Label Text
(0028,1214) U U=K Large Palette Color Lookup Table UID
(0010,21D0) X F=K M=C Last Menstrual Date
(0016,004F) X D=K Lens Make
(0016,0050) X D=K Lens Model
(0016,0051) X D=K Lens Serial Number
(0016,004E) X D=K Lens Specification
(0050,0021) X S=C Long Device Description
(0400,0404) X MAC
(0016,002B) X S=C Maker Note
(0018,100B) U U=K D=K Manufacturer's Device Class UID
(3010,0043) Z D=K Manufacturer's Device Identifier
(0002,0003) U U=K Media Storage SOP Instance UID
(0010,2000) X S=C Medical Alerts
(0010,1090) X Medical Record Locator
(0010,1080) X Military Rank
(0400,0550) X Modified Attributes Sequence
(0020,3403) X F=K M=C Modified Image Date
(0020,3406) X Modified Image Description
(0020,3405) X F=K M=C Modified Image Time
(0020,3401) X D=K Modifying Device ID
(0400,0563) D D=K Modifying System
(0040,B03F) X S=C Montage Channel Label
(0040,B03B) X S=C Montage Name
(3008,0056) X/D F=K M=C Most Recent Treatment Date
(0018,937B) X S=C Multi-energy Acquisition Description
(003A,0020) X S=C Multiplex Group Label
(003A,0310) U U=K Multiplex Group UID
(0008,1060) X Name of Physician(s) Reading Study
(0010,0012) X Name to Use
(0010,0013) X Name to Use Comment
(0040,1010) X Names of Intended Recipients of Results
(0008,1000) X D=C Network ID
(0400,0552) X Nonconforming Data Element Value
(0400,0551) X Nonconforming Modified Attributes Sequence
(0040,A192) X F=K M=C Observation Date (Trial)
(0040,A032) X/D F=K M=C Observation DateTime
(0040,A033) X F=K M=C Observation Start DateTime
(0040,A402) U U=K Observation Subject UID (Trial)
(0040,A193) X F=K M=C Observation Time (Trial)
(0040,A171) U U=K Observation UID
(0010,2180) X S=C Occupation
(0008,1072) X/D Operator Identification Sequence
(0008,1070) X/Z/D Operators' Name
(0040,2010) X Order Callback Phone Number
(0040,2011) X Order Callback Telecom Information
(0040,2008) X Order Entered By
(0040,2009) X Order Enterer's Location
(0400,0561) X Original Attributes Sequence
(2100,0070) X D=C Originator
(0012,0023) X Other Clinical Trial Protocol IDs Sequence
(0010,1000) X Other Patient IDs
(0010,1002) X Other Patient IDs Sequence
(0010,1001) X Other Patient Names
(60xx,4000) X G=C Overlay Comments
(60xx,3000) X G=C Overlay Data
(0008,0024) X F=K M=C Overlay Date
(0008,0034) X F=K M=C Overlay Time
(300A,0760) D F=K M=C Override DateTime
(0028,1199) U U=K Palette Color Lookup Table UID
(0040,A07A) X Participant Sequence
(0040,A082) Z F=K M=C Participation DateTime
(0010,4000) X S=C Patient Comments
(0010,0020) Z/D Patient ID
(300A,0794) X S=C Patient Setup Photo Description
(300A,0650) U U=K Patient Setup UID
(0038,0500) X C=C S=C Patient State
(0040,1004) X Patient Transport Arrangements
(300A,0792) X S=C Patient Treatment Preparation Method Description
(300A,078E) X S=C Patient Treatment Preparation Procedure Parameter Description
(0010,1040) X Patient's Address
(0010,1010) X C=K Patient's Age
(0010,0030) Z Patient's Birth Date
(0010,1005) X Patient's Birth Name
(0010,0032) X Patient's Birth Time
(0038,0400) X Patient's Institution Residence
(0010,0050) X Patient's Insurance Plan Code Sequence
(0010,1060) X Patient's Mother's Birth Name
(0010,0010) Z Patient's Name
(0010,0101) X Patient's Primary Language Code Sequence
(0010,0102) X Patient's Primary Language Modifier Code Sequence
(0010,21F0) X Patient's Religious Preference
(0010,0040) Z C=K Patient's Sex
(0010,2203) X/Z C=K Patient's Sex Neutered
(0010,1020) X C=K Patient's Size
(0010,2155) X Patient's Telecom Information
(0010,2154) X Patient's Telephone Numbers
(0010,1030) X C=K Patient's Weight
(0040,0243) X Performed Location
(0040,0254) X S=C Performed Procedure Step Description
(0040,0250) X F=K M=C Performed Procedure Step End Date
(0040,4051) X F=K M=C Performed Procedure Step End DateTime
(0040,0251) X F=K M=C Performed Procedure Step End Time
(0040,0253) X Performed Procedure Step ID
(0040,0244) X F=K M=C Performed Procedure Step Start Date
(0040,4050) X F=K M=C Performed Procedure Step Start DateTime
(0040,0245) X F=K M=C Performed Procedure Step Start Time
(0040,0241) X D=C Performed Station AE Title
(0040,4030) X D=K Performed Station Geographic Location Code Sequence
(0040,0242) X D=K Performed Station Name
(0040,4028) X D=K Performed Station Name Code Sequence
(0008,1052) X Performing Physician Identification Sequence
(0008,1050) X Performing Physician's Name
(0040,1101) D Person Identification Code Sequence
(0040,A123) D Person Name
(0010,0011) X Person Names to Use Sequence
(0040,1102) X Person's Address
(0040,1104) X Person's Telecom Information
(0040,1103) X Person's Telephone Numbers
(4008,0114) X Physician Approving Interpretation
(0008,1048) X Physician(s) of Record
(0008,1049) X Physician(s) of Record Identification Sequence
(0008,1062) X Physician(s) Reading Study Identification Sequence
(0040,2016) Z Placer Order Number / Imaging Service Request
(0018,1004) X D=K Plate ID
(3002,0123) X S=C Position Acquisition Template Description
(3002,0121) X S=C Position Acquisition Template Name
(0040,0012) X C=C Pre-Medication
(0010,21C0) X C=K Pregnancy Status
(300A,000E) X S=C Prescription Description
(3010,007B) Z S=C Prescription Notes
(3010,0081) Z S=C Prescription Notes Sequence
(0070,0082) X F=K M=C Presentation Creation Date
(0070,0083) X F=K M=C Presentation Creation Time
(0070,1101) U U=K Presentation Display Collection UID
(0070,1102) U U=K Presentation Sequence Collection UID
(0008,1302) X S=C Primary Diagnosis Code Sequence
(0008,1301) X S=C Principal Diagnosis Code Sequence
(3010,0061) X S=C Prior Treatment Dose Description
(gggg,eeee) X P=C Private Attributes (odd group gggg)
(0040,4052) X F=K M=C Procedure Step Cancellation DateTime
(0044,000B) X F=K M=C Product Expiration DateTime
(0010,0015) X Pronoun Code Sequence
(0010,0016) X S=C Pronoun Comment
(0018,1030) X/D S=C Protocol Name
(0008,1088) X S=C Pyramid Description
(0020,0027) X S=C Pyramid Label
(0008,0019) U U=K Pyramid UID
(300A,0619) D S=C Radiation Dose Identification Label
(300A,0623) D S=C Radiation Dose In-Vivo Measurement Label
(300A,067D) Z S=C Radiation Generation Mode Description
(300A,067C) D S=C Radiation Generation Mode Label
(0018,1078) X F=K M=C Radiopharmaceutical Start DateTime
(0018,1072) X F=K M=C Radiopharmaceutical Start Time
(0018,1079) X F=K M=C Radiopharmaceutical Stop DateTime
(0018,1073) X F=K M=C Radiopharmaceutical Stop Time
(300C,0113) X S=C Reason for Omission Description
(0040,100A) X S=C Reason for Requested Procedure Code Sequence
(0032,1030) X S=C Reason for Study
(3010,005C) Z S=C Reason for Superseding
(0400,0565) D S=C Reason for the Attribute Modification
(0040,2001) X S=C Reason for the Imaging Service Request
(0040,1002) X S=C Reason for the Requested Procedure
(0032,1066) X S=C Reason for Visit
(0032,1067) X S=C Reason for Visit Code Sequence
(0074,1234) X D=C Receiving AE
(300A,073A) D F=K M=C Recorded RT Control Point DateTime
(3010,000B) U U=K Referenced Conceptual Volume UID
(0040,A13A) D F=K M=C Referenced DateTime
(0400,0402) X Referenced Digital Signature Sequence
(300A,0083) U U=K Referenced Dose Reference UID
(3010,006F) U U=K Referenced Dosimetric Objective UID
(3010,0031) U U=K Referenced Fiducials UID
(3006,0024) U U=K Referenced Frame of Reference UID
(0040,4023) U U=K Referenced General Purpose Scheduled Procedure Step Transaction UID
(0008,1140) X/Z/U* U=K Referenced Image Sequence
(0040,A172) U U=K Referenced Observation UID (Trial)
(0038,0004) X Referenced Patient Alias Sequence
(0010,1100) X Referenced Patient Photo Sequence
(0008,1120) X U=K Referenced Patient Sequence
(0008,1111) X/Z/D U=K Referenced Performed Procedure Step Sequence
(0400,0403) X Referenced SOP Instance MAC Sequence
(0008,1155) U U=K Referenced SOP Instance UID
(0004,1511) U U=K Referenced SOP Instance UID in File
(0008,1110) X/Z U=K Referenced Study Sequence
(300A,0785) U U=K Referenced Treatment Position Group UID
(0008,0096) X Referring Physician Identification Sequence
(0008,0092) X Referring Physician's Address
(0008,0090) Z Referring Physician's Name
(0008,0094) X Referring Physician's Telephone Numbers
(0010,2152) X Region of Residence
(3006,00C2) U U=K Related Frame of Reference UID
(0040,0275) X S=C Request Attributes Sequence
(0032,1070) X S=C Requested Contrast Agent
(0040,1400) X S=C Requested Procedure Comments
(0032,1060) X/Z S=C Requested Procedure Description
(0040,1001) X Requested Procedure ID
(0040,1005) X Requested Procedure Location
(0018,9937) X S=C Requested Series Description
(0000,1001) U U=K Requested SOP Instance UID
(0074,1236) X D=C Requesting AE
(0032,1032) X Requesting Physician
(0032,1033) X S=C Requesting Service
(0018,9185) X S=C Respiratory Motion Compensation Technique Description
(0010,2299) X Responsible Organization
(0010,2297) X Responsible Person
(4008,4000) X S=C Results Comments
(4008,0118) X Results Distribution List Sequence
(4008,0040) X Results ID
(4008,0042) X Results ID Issuer
(0008,0054) X D=C Retrieve AE Title
(300E,0004) Z F=K M=C Review Date
(300E,0005) Z F=K M=C Review Time
(300E,0008) X/Z Reviewer Name
(3006,004D) X ROI Creator Sequence
(3006,002D) X F=K M=C ROI DateTime
(3006,0028) X S=C ROI Description
(3006,0038) X S=C ROI Generation Description
(3006,00A6) Z ROI Interpreter
(3006,004E) X ROI Interpreter Sequence
(3006,0026) Z S=C ROI Name
(3006,002E) X F=K M=C ROI Observation DateTime
(3006,0088) X S=C ROI Observation Description
(3006,0085) X S=C ROI Observation Label
(300A,0615) Z RT Accessory Device Slot ID
(300A,0611) Z RT Accessory Holder Slot ID
(3010,005A) Z S=C RT Physician Intent Narrative
(300A,0006) X/D F=K M=C RT Plan Date
(300A,0004) X S=C RT Plan Description
(300A,0002) D S=C RT Plan Label
(300A,0003) X S=C RT Plan Name
(300A,0007) X/D F=K M=C RT Plan Time
(3010,0054) D S=C RT Prescription Label
(300A,062A) D S=C RT Tolerance Set Label
(3010,0056) X/D S=C RT Treatment Approach Label
(3010,003B) U U=K RT Treatment Phase UID
(3008,0162) D F=K M=C Safe Position Exit Date
(3008,0164) D F=K M=C Safe Position Exit Time
(3008,0166) D F=K M=C Safe Position Return Date
(3008,0168) D F=K M=C Safe Position Return Time
(0038,001A) X F=K M=C Scheduled Admission Date
(0038,001B) X F=K M=C Scheduled Admission Time
(0038,001C) X F=K M=C Scheduled Discharge Date
(0038,001D) X F=K M=C Scheduled Discharge Time
(0040,4034) X Scheduled Human Performers Sequence
(0038,001E) X Scheduled Patient Institution Residence
(0040,000B) X Scheduled Performing Physician Identification Sequence
(0040,0006) X Scheduled Performing Physician's Name
(0040,0007) X S=C Scheduled Procedure Step Description
(0040,0004) X F=K M=C Scheduled Procedure Step End Date
(0040,0005) X F=K M=C Scheduled Procedure Step End Time
(0040,4008) X F=K M=C Scheduled Procedure Step Expiration DateTime
(0040,0009) X Scheduled Procedure Step ID
(0040,0011) X D=K Scheduled Procedure Step Location
(0040,4010) X F=K M=C Scheduled Procedure Step Modification DateTime
(0040,0002) X F=K M=C Scheduled Procedure Step Start Date
(0040,4005) X F=K M=C Scheduled Procedure Step Start DateTime
(0040,0003) X F=K M=C Scheduled Procedure Step Start Time
(0040,0001) X D=C Scheduled Station AE Title
(0040,4027) X D=K Scheduled Station Geographic Location Code Sequence
(0040,0010) X D=K Scheduled Station Name
(0040,4025) X D=K Scheduled Station Name Code Sequence
(0032,1020) X D=K Scheduled Study Location
(0032,1021) X D=C Scheduled Study Location AE Title
(0032,1000) X F=K M=C Scheduled Study Start Date
(0032,1001) X F=K M=C Scheduled Study Start Time
(0032,1010) X F=K M=C Scheduled Study Stop Date
(0032,1011) X F=K M=C Scheduled Study Stop Time
(0018,1010) X D=K Secondary Capture Device ID
(0008,1303) X S=C Secondary Diagnoses Code Sequence
(0040,B036) X F=K M=C Segment Definition DateTime
(0072,005E) D D=C Selector AE Value
(0072,005F) D C=K Selector AS Value
(0072,0061) D F=K M=C Selector DA Value
(0072,0063) D F=K M=C Selector DT Value
(0072,0066) D S=C Selector LO Value
(0072,0068) D S=C Selector LT Value
(0072,0065) D Selector OB Value
(0072,006A) D Selector PN Value
(0072,006C) D S=C Selector SH Value
(0072,006E) D S=C Selector ST Value
(0072,006B) D F=K M=C Selector TM Value
(0072,006D) D Selector UN Value
(0072,0071) D Selector UR Value
(0072,0070) D S=C Selector UT Value
(0008,0021) X/D F=K M=C Series Date
(0008,103E) X S=C Series Description
(0020,000E) U U=K Series Instance UID
(0008,0031) X/D F=K M=C Series Time
(0038,0062) X S=C Service Episode Description
(0038,0060) X Service Episode ID
(300A,01B2) X S=C Setup Technique Description
(0010,0046) X C=K Sex Parameters for Clinical Use Category Code Sequence
(0010,0042) X C=C S=C Sex Parameters for Clinical Use Category Comment
(0010,0047) X C=K Sex Parameters for Clinical Use Category Reference
(0010,0043) X C=K Sex Parameters for Clinical Use Category Sequence
(300A,01A6) X S=C Shielding Device Description
(0040,06FA) X Slide Identifier
(0010,21A0) X C=K Smoking Status
(0100,0420) X F=K M=C SOP Authorization DateTime
(0008,0018) U U=K SOP Instance UID
(3010,0015) U U=K Source Conceptual Volume UID
(0018,936A) D F=K M=C Source End DateTime
(0064,0003) U U=K Source Frame of Reference UID
(0034,0005) D Source Identifier
(0008,2112) X/Z/U* U=K Source Image Sequence
(300A,0216) X D=K Source Manufacturer
(0400,0564) Z I=K Source of Previous Values
(3008,0105) X/Z D=K Source Serial Number
(0018,9369) D F=K M=C Source Start DateTime
(300A,022C) D F=K M=C Source Strength Reference Date
(300A,022E) D F=K M=C Source Strength Reference Time
(0038,0050) X C=C Special Needs
(0040,050A) X Specimen Accession Number
(0040,0602) X S=C Specimen Detailed Description
(0040,0551) D Specimen Identifier
(0040,0610) Z T=C Specimen Preparation Sequence
(0040,0600) X S=C Specimen Short Description
(0040,0554) U U=K Specimen UID
(0018,9516) X/D F=K M=C Start Acquisition DateTime
(0008,0055) X D=C Station AE Title
(0008,1010) X/Z/D D=K Station Name
(0088,0140) U U=K Storage Media File-set UID
(3006,0008) Z F=K M=C Structure Set Date
(3006,0006) X S=C Structure Set Description
(3006,0002) D S=C Structure Set Label
(3006,0004) X S=C Structure Set Name
(3006,0009) Z F=K M=C Structure Set Time
(0032,1040) X F=K M=C Study Arrival Date
(0032,1041) X F=K M=C Study Arrival Time
(0032,4000) X S=C Study Comments
(0032,1050) X F=K M=C Study Completion Date
(0032,1051) X F=K M=C Study Completion Time
(0008,0020) Z F=K M=C Study Date
(0008,1030) X S=C Study Description
(0020,0010) Z Study ID
(0032,0012) X Study ID Issuer
(0020,000D) U U=K Study Instance UID
(0032,0034) X F=K M=C Study Read Date
(0032,0035) X F=K M=C Study Read Time
(0008,0030) Z F=K M=C Study Time
(0032,0032) X F=K M=C Study Verified Date
(0032,0033) X F=K M=C Study Verified Time
(0044,0010) X F=K M=C Substance Administration DateTime
(0020,0200) U U=K Synchronization Frame of Reference UID
(300A,0054) U U=K Table Top Position Alignment UID
(0018,2042) U U=K Target UID
(0040,A354) X Telephone Number (Trial)
(0040,DB0D) U U=K Template Extension Creator UID
(0040,DB0C) U U=K Template Extension Organization UID
(0040,DB07) X F=K M=C Template Local Version
(0040,DB06) X F=K M=C Template Version
(4000,4000) X Text Comments
(2030,0020) X Text String
(0010,0014) X Third Person Pronouns Sequence
(0040,A122) D F=K M=C Time
(0040,A112) X F=K M=C Time of Document Creation or Verbal Transaction (Trial)
(0018,1201) X D=K F=K M=C Time of Last Calibration
(0018,700E) X/D D=K F=K M=C Time of Last Detector Calibration
(0018,1014) X F=K M=C Time of Secondary Capture
(0008,0201) X F=K M=C Timezone Offset From UTC
(0088,0910) X Topic Author
(0088,0912) X Topic Keywords
(0088,0906) X Topic Subject
(0088,0904) X Topic Title
(0062,0021) U U=K Tracking UID
(0008,1195) U U=K Transaction UID
(0018,5011) X D=K Transducer Identification Sequence
(3008,0024) D F=K M=C Treatment Control Point Date
(3008,0025) D F=K M=C Treatment Control Point Time
(3008,0250) X/D F=K M=C Treatment Date
(300A,00B2) X/Z D=K Treatment Machine Name
(300A,0608) D S=C Treatment Position Group Label
(300A,0609) U U=K Treatment Position Group UID
(300A,0700) U U=K Treatment Session UID
(3010,0077) X/D S=C Treatment Site
(300A,000B) X S=C Treatment Sites
(3010,007A) Z S=C Treatment Technique Notes
(3008,0251) X/D F=K M=C Treatment Time
(300A,0736) D F=K M=C Treatment Tolerance Violation DateTime
(300A,0734) D S=C Treatment Tolerance Violation Description
(0018,100A) X D=K UDI Sequence
(0040,A124) U UID
(0070,0006) D S=C Unformatted Text Value
(0018,1009) X D=K Unique Device Identifier
(3010,0033) D S=C User Content Label
(3010,0034) D S=C User Content Long Label
(0040,A352) X Verbal Source (Trial)
(0040,A358) X Verbal Source Identifier Code Sequence (Trial)
(0040,A030) D F=K M=C Verification DateTime
(0040,A088) Z Verifying Observer Identification Code Sequence
(0040,A075) D Verifying Observer Name
(0040,A073) D Verifying Observer Sequence
(0040,A027) D Verifying Organization
(0038,4000) X S=C Visit Comments
(0040,B020) X/D T=C Waveform Annotation Sequence
(003A,0329) X S=C Waveform Filter Description
(0018,9371) D D=K X-Ray Detector ID
(0018,9373) X D=K X-Ray Detector Label
(0018,9367) D D=K X-Ray Source ID
"""
# fmt: on

# Attributes Table E.1-1 does not list but which name the issuing institution of an
# identifier the profile removes. This tool treats them like the table's institution
# rows (removed unless Retain Institution Identity). Same line format as the table.
EXTRA_RULES = """
(0008,0051) X I=K Issuer of Accession Number Sequence
(0010,0024) X I=K Issuer of Patient ID Qualifiers Sequence
"""

BASIC_ACTIONS = ("D", "Z", "X", "K", "C", "U", "Z/D", "X/Z", "X/D", "X/Z/D", "X/Z/U*")
OPTION_LETTERS = {
    "P": "retain_safe_private",
    "U": "retain_uids",
    "D": "retain_device_identity",
    "I": "retain_institution_identity",
    "C": "retain_patient_characteristics",
    "F": "retain_longitudinal_full_dates",
    "M": "retain_longitudinal_modified_dates",
    "S": "clean_descriptors",
    "T": "clean_structured_content",
    "G": "clean_graphics",
}

_LINE = re.compile(r"^\(([0-9A-Fa-fgex]{4}),([0-9A-Fa-fgex]{4})\)\s+(\S+)((?:\s+[A-Z]=[A-Z])*)\s+(.+)$")


@dataclass(frozen=True)
class Rule:
    """One row of Table E.1-1: attribute, Basic Profile action, option overrides."""

    tag: str  # "(GGGG,EEEE)" as in the standard, with x for repeating-group digits
    name: str
    basic: str
    options: dict[str, str] = field(default_factory=dict)  # option name -> action

    @property
    def tag_int(self) -> int | None:
        """The tag as an integer, or None for a pattern row."""
        g, e = self.tag[1:5], self.tag[6:10]
        try:
            return (int(g, 16) << 16) | int(e, 16)
        except ValueError:
            return None


def parse_table(text: str = TABLE_E1_1) -> tuple[Rule, ...]:
    rules = []
    for raw in text.strip().splitlines():
        m = _LINE.match(raw.strip())
        if not m:
            raise ValueError(f"malformed Table E.1-1 line: {raw!r}")
        group, element, basic, opts, name = m.groups()
        if basic not in BASIC_ACTIONS:
            raise ValueError(f"unknown action {basic!r} in line {raw!r}")
        options = {}
        for token in opts.split():
            letter, action = token.split("=")
            options[OPTION_LETTERS[letter]] = action
        rules.append(Rule(tag=f"({group.upper()},{element.upper()})", name=name, basic=basic, options=options))
    return tuple(rules)


RULES: tuple[Rule, ...] = parse_table()
EXTENSION_RULES: tuple[Rule, ...] = parse_table(EXTRA_RULES)
RULES_BY_TAG: dict[int, Rule] = {r.tag_int: r for r in RULES + EXTENSION_RULES if r.tag_int is not None}
PRIVATE_RULE = next(r for r in RULES if r.tag == "(GGGG,EEEE)")
CURVE_RULE = next(r for r in RULES if r.tag == "(50XX,XXXX)")
OVERLAY_DATA_RULE = next(r for r in RULES if r.tag == "(60XX,3000)")
OVERLAY_COMMENTS_RULE = next(r for r in RULES if r.tag == "(60XX,4000)")


def rule_for(tag: int) -> Rule | None:
    """The Table E.1-1 row governing ``tag`` (patterns included), or None if not listed."""
    group, element = tag >> 16, tag & 0xFFFF
    if group % 2 == 1:
        return PRIVATE_RULE
    rule = RULES_BY_TAG.get(tag)
    if rule is not None:
        return rule
    if 0x5000 <= group <= 0x501E:
        return CURVE_RULE
    if 0x6000 <= group <= 0x601E:
        if element == 0x3000:
            return OVERLAY_DATA_RULE
        if element == 0x4000:
            return OVERLAY_COMMENTS_RULE
    return None
