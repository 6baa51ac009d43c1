<#
.SYNOPSIS
  Collects a patchscan inventory (docs/inventory.md) on a Windows machine: exactly the facts a catalog's rules ask for.

.DESCRIPTION
  Reads a collection manifest (`patchscan manifest catalog.pscat --json > manifest.json`) and writes one inventory
  document (schema patchscan-inventory/1) as UTF-8 JSON. Run it as an administrator (some registry keys and DISM need
  it) in 64-bit PowerShell 5.1 or later.

  Absent is not unknown: what the manifest asks for and is not there is written as absent (exists:false, null, or
  left out of a complete list); what could not be read is left out, so the engine answers Unknown for it.

.EXAMPLE
  .\Collect-PatchscanInventory.ps1 -Manifest .\manifest.json -Out "\\server\inventories\$env:COMPUTERNAME.json"

.EXAMPLE
  .\Collect-PatchscanInventory.ps1 -Manifest .\manifest.json -Out .\me.json; patchscan upload --server https://site:8443 --token $t .\me.json
#>
[CmdletBinding()]
param(
  [Parameter(Mandatory = $true)] [string] $Manifest,
  [Parameter(Mandatory = $true)] [string] $Out,
  # Skip DISM (slow on some machines): CBS rules then answer Unknown.
  [switch] $NoCbs
)

Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

$m = Get-Content -LiteralPath $Manifest -Raw | ConvertFrom-Json
if ($m.schema -ne 'patchscan-manifest/1') { throw "$Manifest is not a patchscan manifest (schema $($m.schema))" }

$inv = [ordered]@{
  schema      = 'patchscan-inventory/1'
  computer    = [ordered]@{ name = $env:COMPUTERNAME; id = (Get-CimInstance Win32_ComputerSystemProduct).UUID; domain = $env:USERDNSDOMAIN }
  collectedAt = (Get-Date).ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ')
}

function Open-Hklm([string] $view) {
  $v = if ($view -eq '32') { [Microsoft.Win32.RegistryView]::Registry32 } else { [Microsoft.Win32.RegistryView]::Default }
  [Microsoft.Win32.RegistryKey]::OpenBaseKey([Microsoft.Win32.RegistryHive]::LocalMachine, $v)
}

function Read-Key([string] $view, [string] $key) {
  $sub = $key -replace '^HKEY_LOCAL_MACHINE\\?', ''
  $base = Open-Hklm $view
  try {
    $k = $base.OpenSubKey($sub)
    if ($null -eq $k) { return [ordered]@{ key = $key; view = $view; exists = $false } }
    $values = foreach ($name in $k.GetValueNames()) {
      $kind = $k.GetValueKind($name)
      $raw = $k.GetValue($name, $null, [Microsoft.Win32.RegistryValueOptions]::DoNotExpandEnvironmentNames)
      switch ($kind) {
        'DWord'        { [ordered]@{ name = $name; type = 'REG_DWORD'; data = [uint32]([int64]$raw -band 0xffffffff) } }
        'QWord'        { [ordered]@{ name = $name; type = 'REG_QWORD'; data = [uint64]$raw } }
        'String'       { [ordered]@{ name = $name; type = 'REG_SZ'; data = [string]$raw } }
        'ExpandString' { [ordered]@{ name = $name; type = 'REG_EXPAND_SZ'; data = [string]$raw } }
        'MultiString'  { [ordered]@{ name = $name; type = 'REG_MULTI_SZ'; data = @($raw) } }
        'Binary'       { [ordered]@{ name = $name; type = 'REG_BINARY'; data = (($raw | ForEach-Object { $_.ToString('x2') }) -join '') } }
        default        { [ordered]@{ name = $name; type = 'REG_NONE'; data = '' } }
      }
    }
    [ordered]@{ key = $key; view = $view; exists = $true; values = @($values); subkeys = @($k.GetSubKeyNames()) }
  } finally { $base.Dispose() }
}

function Read-File([string] $path) {
  $f = Get-Item -LiteralPath $path -Force -ErrorAction SilentlyContinue
  if ($null -eq $f -or $f.PSIsContainer) { return [ordered]@{ path = $path; exists = $false } }
  $o = [ordered]@{ path = $path; exists = $true; size = $f.Length
    created = $f.CreationTimeUtc.ToString('yyyy-MM-ddTHH:mm:ssZ'); modified = $f.LastWriteTimeUtc.ToString('yyyy-MM-ddTHH:mm:ssZ') }
  $vi = $f.VersionInfo
  if ($vi -and $vi.FileMajorPart -ne $null -and ($vi.FileMajorPart + $vi.FileMinorPart + $vi.FileBuildPart + $vi.FilePrivatePart) -gt 0) {
    $o.version = '{0}.{1}.{2}.{3}' -f $vi.FileMajorPart, $vi.FileMinorPart, $vi.FileBuildPart, $vi.FilePrivatePart
  }
  $o
}

# --- OS, processor, cluster ---------------------------------------------------------------------------------------
if ($m.os) {
  $os = Get-CimInstance Win32_OperatingSystem
  $ver = [Environment]::OSVersion.Version
  $cv = Read-Key 'native' 'HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion'
  $ubr = ($cv.values | Where-Object { $_.name -eq 'UBR' } | Select-Object -First 1)
  $inv.os = [ordered]@{
    major = $ver.Major; minor = $ver.Minor; build = [int]$os.BuildNumber
    spMajor = [int]$os.ServicePackMajorVersion; spMinor = [int]$os.ServicePackMinorVersion
    productType = [int]$os.ProductType; suiteMask = [int]$os.SuiteMask
    installLanguage = ([System.Globalization.CultureInfo]::GetCultureInfo([int]("0x" + $os.OSLanguage.ToString('x4')))).Name
    uiLanguages = @($os.MUILanguages); muiInstalled = (@($os.MUILanguages).Count -gt 1)
  }
  if ($ubr) { $inv.os.ubr = [int]$ubr.data }
}
if ($m.processor) {
  $cpu = Get-CimInstance Win32_Processor | Select-Object -First 1
  $inv.processor = [ordered]@{ architecture = [int]$cpu.Architecture; level = [int]$cpu.Level; revision = [int]$cpu.Revision
    count = [int]((Get-CimInstance Win32_ComputerSystem).NumberOfLogicalProcessors) }
}
if ($m.cluster) {
  $inv.cluster = @{ clustered = [bool](Get-Service -Name ClusSvc -ErrorAction SilentlyContinue) }
}

# --- CSIDL folders and files --------------------------------------------------------------------------------------
$csidlNames = @{ '36' = 'Windows'; '37' = 'System'; '38' = 'ProgramFiles'; '41' = 'SystemX86'; '42' = 'ProgramFilesX86'
  '43' = 'CommonProgramFiles'; '44' = 'CommonProgramFilesX86' }
$csidl = [ordered]@{}
foreach ($id in $m.csidl) {
  if ($csidlNames.ContainsKey([string]$id)) { $csidl[[string]$id] = [Environment]::GetFolderPath($csidlNames[[string]$id]) }
}
$inv.csidl = $csidl
$files = New-Object System.Collections.ArrayList
$seen = @{}
foreach ($f in $m.files) {
  if (-not $csidl.Contains([string]$f.csidl)) { continue }   # folder unknown: leave the file out (Unknown)
  $p = Join-Path $csidl[[string]$f.csidl] ($f.path.TrimStart('\'))
  if (-not $seen.ContainsKey($p.ToLower())) { $seen[$p.ToLower()] = 1; [void]$files.Add((Read-File $p)) }
}

# --- Registry ----------------------------------------------------------------------------------------------------
$keys = New-Object System.Collections.ArrayList
$keySeen = @{}
function Add-Key([string] $view, [string] $key) {
  # 32-bit Windows has one registry view, and the engine reads it as 'native' there (docs/inventory.md).
  if ($view -eq '32' -and -not [Environment]::Is64BitOperatingSystem) { $view = 'native' }
  $id = "$view|$($key.ToLower())"
  if ($keySeen.ContainsKey($id)) { return $keySeen[$id] }
  $k = Read-Key $view $key
  $keySeen[$id] = $k
  [void]$keys.Add($k)
  $k
}
foreach ($k in $m.registryKeys) { [void](Add-Key $k.view $k.key) }
foreach ($t in $m.registrySubtrees) {
  $root = Add-Key $t.view $t.key
  if ($root.exists) { foreach ($s in $root.subkeys) { [void](Add-Key $t.view "$($t.key)\$s") } }
}
foreach ($f in $m.filesUnderRegistry) {
  $k = Add-Key $f.view $f.key
  if (-not $k.exists) { continue }
  $v = $k.values | Where-Object { $_.name -eq $f.value } | Select-Object -First 1
  if ($v -and ($v.type -eq 'REG_SZ' -or $v.type -eq 'REG_EXPAND_SZ')) {
    $p = Join-Path ([Environment]::ExpandEnvironmentVariables($v.data)) $f.path
    if (-not $seen.ContainsKey($p.ToLower())) { $seen[$p.ToLower()] = 1; [void]$files.Add((Read-File $p)) }
  }
}
$inv.files = @($files)
$inv.registry = @($keys)

# --- WMI, system metrics, licensing, device attributes ------------------------------------------------------------
if (@($m.wmi).Count -gt 0) {
  $inv.wmi = @(foreach ($q in $m.wmi) {
    try { [ordered]@{ namespace = $q.namespace; query = $q.query; count = @(Get-CimInstance -Namespace $q.namespace -Query $q.query -ErrorAction Stop).Count } }
    catch { Write-Warning "WMI query failed, left out (Unknown): $($q.query)" }
  })
}
if (@($m.systemMetrics).Count -gt 0) {
  Add-Type -Namespace Patchscan -Name User32 -MemberDefinition '[DllImport("user32.dll")] public static extern int GetSystemMetrics(int nIndex);'
  $metrics = [ordered]@{}
  foreach ($i in $m.systemMetrics) { $metrics[[string]$i] = [Patchscan.User32]::GetSystemMetrics([int]$i) }
  $inv.systemMetrics = $metrics
}
if (@($m.licensing).Count -gt 0) {
  Add-Type -Namespace Patchscan -Name Slc -MemberDefinition '[DllImport("slc.dll", CharSet = CharSet.Unicode)] public static extern int SLGetWindowsInformationDWORD(string name, out int value);'
  $lic = [ordered]@{}
  foreach ($g in $m.licensing) {
    $val = 0
    $hr = [Patchscan.Slc]::SLGetWindowsInformationDWORD($g, [ref]$val)
    $lic[$g] = if ($hr -eq 0) { [uint32]$val } else { $null }
  }
  $inv.licensing = $lic
}
if (@($m.deviceAttributes).Count -gt 0) {
  $da = [ordered]@{}
  foreach ($a in $m.deviceAttributes) {
    switch ($a.ToLower()) {
      'ossku'      { $da[$a] = [string](Get-CimInstance Win32_OperatingSystem).OperatingSystemSKU }
      'osskuid'    { $da[$a] = [string](Get-CimInstance Win32_OperatingSystem).OperatingSystemSKU }
      'osversion'  { $da[$a] = '{0}.{1}' -f [Environment]::OSVersion.Version.ToString(3), $inv.os.ubr }
      'producttype' { $da[$a] = [string](Get-CimInstance Win32_OperatingSystem).ProductType }
      default      { }   # not collected: Unknown
    }
  }
  $inv.deviceAttributes = $da
}

# --- MSI products, CBS packages, product releases ----------------------------------------------------------------
if ($m.msiProducts) {
  $installer = New-Object -ComObject WindowsInstaller.Installer
  $inv.msi = @{ products = @(foreach ($code in $installer.Products) {
    $p = [ordered]@{ productCode = $code }
    try { $p.version = $installer.ProductInfo($code, 'VersionString') } catch { }
    try { $p.language = [int]$installer.ProductInfo($code, 'Language') } catch { }
    try { $p.features = @($installer.Features($code)) } catch { }
    try { $p.patches = @($installer.Patches($code)) } catch { }
    $p
  }) }
}
if ($m.cbsPackages -and -not $NoCbs) {
  $pk = Get-WindowsPackage -Online
  $cbs = [ordered]@{ packages = @($pk | ForEach-Object { [ordered]@{ identity = $_.PackageName; state = [string]$_.PackageState } }) }
  # DISM's applicability is known only for packages present as files; the rest stay Unknown.
  $inv.cbs = $cbs
}
if ($m.productReleases) {
  # Windows exposes no list of installed "product releases" to scripts; leaving the section out makes
  # ProductReleaseInstalled rules Unknown rather than guessing False.
  Write-Warning 'productReleases are not collected: ProductReleaseInstalled rules will answer Unknown'
}

$json = $inv | ConvertTo-Json -Depth 8 -Compress
[System.IO.File]::WriteAllText($Out, $json, (New-Object System.Text.UTF8Encoding $false))
Write-Host "patchscan inventory written to $Out ($($json.Length) bytes)"
