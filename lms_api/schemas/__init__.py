"""Request and response models: a Base/Create/Update/Public family per resource."""
