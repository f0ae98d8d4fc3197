"""statue-restore: restore the missing arms of statues in photographs and lift them to 3D.

The package's folders are the pipeline's stages; each exposes one small typed interface that
takes an RGB uint8 HxWx3 array and returns a frozen dataclass:

- ``restore.segmentation``  -> :class:`~restore.segmentation.Segmentation`
- ``restore.pose``          -> :class:`~restore.pose.Pose`
- ``restore.masking``       -> :class:`~restore.masking.ArmMask`
- ``restore.inpainting``    -> :class:`~restore.inpainting.Inpainting`
- ``restore.reconstruction``-> :class:`~restore.reconstruction.Reconstruction`
- ``restore.pipeline``      -> :class:`~restore.pipeline.RestoreResult` (all of the above)

Nothing heavy is imported here: backends load their libraries and weights on first use.
"""

__version__ = "0.1.0"
