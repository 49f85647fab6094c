; Inno Setup script for smsdesk on Windows (compiled by packaging/build.py when iscc is on PATH).
;   iscc /DAppVersion=0.1.0 /DSourceDir=..\..\dist\smsdesk /DIconFile=..\..\build\icons\smsdesk.ico
;        /DOutputDir=..\..\dist packaging\windows\smsdesk.iss
; build.py passes all four; the defaults below are for running iscc by hand from this folder.
; Per-user install by default (no admin rights needed in a small office); the dialog offers
; "all users" too. Keys stay in Windows Credential Manager; uninstalling leaves the data folder.

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#ifndef SourceDir
  #define SourceDir "..\..\dist\smsdesk"
#endif
#ifndef IconFile
  #define IconFile "..\..\build\icons\smsdesk.ico"
#endif
#ifndef OutputDir
  #define OutputDir "..\..\dist"
#endif

[Setup]
AppId={{6A0F3C52-8E1B-4C7D-9B7E-3D2A1F0C5E41}
AppName=smsdesk
AppVersion={#AppVersion}
AppVerName=smsdesk {#AppVersion}
AppPublisher=The smsdesk developers
AppPublisherURL=https://smsdesk.io/
DefaultDirName={autopf}\smsdesk
DefaultGroupName=smsdesk
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir={#OutputDir}
OutputBaseFilename=smsdesk-{#AppVersion}-setup
SetupIconFile={#IconFile}
UninstallDisplayIcon={app}\smsdesk-gui.exe
Compression=lzma2
SolidCompression=yes
WizardStyle=modern
ChangesEnvironment=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "addtopath"; Description: "Add the smsdesk command line to my PATH"; Flags: unchecked

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\smsdesk"; Filename: "{app}\smsdesk-gui.exe"; AppUserModelID: "io.smsdesk.smsdesk"
Name: "{autodesktop}\smsdesk"; Filename: "{app}\smsdesk-gui.exe"; Tasks: desktopicon

[Registry]
Root: HKCU; Subkey: "Environment"; ValueType: expandsz; ValueName: "Path"; \
    ValueData: "{olddata};{app}"; Tasks: addtopath; Check: NeedsAddPath(ExpandConstant('{app}'))

[Run]
Filename: "{app}\smsdesk-gui.exe"; Description: "{cm:LaunchProgram,smsdesk}"; Flags: nowait postinstall skipifsilent

[Code]
function NeedsAddPath(Dir: string): Boolean;
var
  Paths: string;
begin
  if not RegQueryStringValue(HKEY_CURRENT_USER, 'Environment', 'Path', Paths) then
    Paths := '';
  Result := Pos(';' + Uppercase(Dir) + ';', ';' + Uppercase(Paths) + ';') = 0;
end;
