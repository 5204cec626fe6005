"""The attributes outside Table E.1-1 that survive: everything else is removed (fail closed).

PS3.15 lets a de-identifier keep what the table does not list; this tool keeps only what
is on these lists, so an attribute nobody reviewed - a new one, a retired one, a
free-text one - never slips through. The lists hold what imaging work needs: the pixel
module and its encapsulation, image plane and geometry, the modality and VOI LUTs, CT
(and basic MR) acquisition technique, multi-frame functional groups, the class UIDs that
say what an instance is, the references between instances (their instance UIDs are
replaced by the table's U rows), codes from standard coding schemes, and the flags this
tool writes. Attributes in :data:`KEEP_CLEANED` hold free text and survive only cleaned
to vocabulary words (:mod:`.clean`), wherever they occur.
"""

from __future__ import annotations

from pydicom.datadict import tag_for_keyword

_KEYWORDS = """
    SpecificCharacterSet ImageType SOPClassUID Modality InstanceNumber
    SeriesNumber Laterality ImageLaterality BodyPartExamined PatientPosition PatientOrientation
    AnatomicalOrientationType AcquisitionNumber TemporalPositionIdentifier NumberOfTemporalPositions
    Manufacturer ManufacturerModelName SoftwareVersions
    PixelSpacing ImageOrientationPatient ImagePositionPatient SliceThickness SpacingBetweenSlices SliceLocation
    SamplesPerPixel PhotometricInterpretation PlanarConfiguration NumberOfFrames FrameIncrementPointer Rows Columns
    PixelAspectRatio BitsAllocated BitsStored HighBit PixelRepresentation SmallestImagePixelValue
    LargestImagePixelValue PixelPaddingValue PixelPaddingRangeLimit
    RedPaletteColorLookupTableDescriptor GreenPaletteColorLookupTableDescriptor
    BluePaletteColorLookupTableDescriptor RedPaletteColorLookupTableData GreenPaletteColorLookupTableData
    BluePaletteColorLookupTableData
    ExtendedOffsetTable ExtendedOffsetTableLengths PixelData FloatPixelData DoubleFloatPixelData
    RescaleIntercept RescaleSlope RescaleType WindowCenter WindowWidth VOILUTFunction ModalityLUTSequence
    VOILUTSequence LUTDescriptor LUTData PresentationLUTShape
    BurnedInAnnotation RecognizableVisualFeatures LossyImageCompression LossyImageCompressionRatio
    LossyImageCompressionMethod
    KVP ScanOptions DataCollectionDiameter ReconstructionDiameter DistanceSourceToDetector DistanceSourceToPatient
    GantryDetectorTilt TableHeight RotationDirection ExposureTime XRayTubeCurrent Exposure ExposureInuAs FilterType
    GeneratorPower FocalSpots ConvolutionKernel RevolutionTime SingleCollimationWidth TotalCollimationWidth
    TableSpeed TableFeedPerRotation SpiralPitchFactor CTDIvol DataCollectionCenterPatient
    ReconstructionTargetCenterPatient ExposureModulationType AcquisitionType ReconstructionAlgorithm
    ReconstructionFieldOfView ReconstructionPixelSpacing ReconstructionAngle ConvolutionKernelGroup
    ContrastBolusVolume ContrastBolusIngredientConcentration ContrastBolusRoute
    ScanningSequence SequenceVariant MRAcquisitionType RepetitionTime EchoTime InversionTime EchoTrainLength
    FlipAngle MagneticFieldStrength ImagingFrequency ImagedNucleus NumberOfAverages
    SharedFunctionalGroupsSequence PerFrameFunctionalGroupsSequence PixelMeasuresSequence PlanePositionSequence
    PlaneOrientationSequence PixelValueTransformationSequence FrameVOILUTSequence FrameContentSequence
    CTAcquisitionTypeSequence CTAcquisitionDetailsSequence CTTableDynamicsSequence CTGeometrySequence
    CTReconstructionSequence CTExposureSequence CTXRayDetailsSequence CTImageFrameTypeSequence FrameType
    DimensionOrganizationSequence DimensionIndexSequence DimensionIndexPointer FunctionalGroupPointer
    DimensionIndexValues InStackPositionNumber TemporalPositionIndex FrameAcquisitionNumber
    ReferencedSOPClassUID ReferencedFrameNumber ReferencedSegmentNumber ReferencedSeriesSequence
    ReferencedSOPSequence ReferencedInstanceSequence RelatedSeriesSequence PurposeOfReferenceCodeSequence
    CurrentRequestedProcedureEvidenceSequence
    CodeValue CodingSchemeDesignator CodingSchemeVersion CodeMeaning LongCodeValue URNCodeValue ContextIdentifier
    ContextUID MappingResource MappingResourceUID ContextGroupExtensionFlag
    ValueType RelationshipType ConceptNameCodeSequence ConceptCodeSequence MeasuredValueSequence NumericValue
    MeasurementUnitsCodeSequence ContinuityOfContent
    PatientIdentityRemoved DeidentificationMethod DeidentificationMethodCodeSequence
    LongitudinalTemporalInformationModified
    FileMetaInformationGroupLength FileMetaInformationVersion MediaStorageSOPClassUID TransferSyntaxUID ImplementationClassUID
    ImplementationVersionName
"""

_CLEANED_KEYWORDS = "TextValue"


def _tags(keywords: str) -> frozenset[int]:
    tags = set()
    for keyword in keywords.split():
        tag = tag_for_keyword(keyword)
        if tag is None:
            raise ValueError(f"{keyword} is not in pydicom's data dictionary")
        tags.add(int(tag))
    return frozenset(tags)


KEEP: frozenset[int] = _tags(_KEYWORDS)
KEEP_CLEANED: frozenset[int] = _tags(_CLEANED_KEYWORDS)


def is_kept(tag: int) -> bool:
    """Whether an attribute the table does not list survives (as it is)."""
    return tag in KEEP
